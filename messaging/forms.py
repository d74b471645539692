"""Forms of the messaging pages.

The rules themselves (blank, length, uniqueness) live in `messaging.services`;
these forms call the same cleaning functions so an invalid post is re-rendered
with the error next to the field, and the service then re-checks on write.
"""

from django import forms

from chatsite.errors import Invalid
from messaging import services


def _clean_with(cleaner, value):
    try:
        return cleaner(value)
    except Invalid as error:
        raise forms.ValidationError(error.detail, code=error.code) from None


class MessageForm(forms.Form):
    """The composer, and the edit form: one field, `body`."""

    body = forms.CharField(
        label="Message",
        required=False,  # services.clean_body says what is wrong with a blank one
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 1,
                "placeholder": "Write a message…",
                "autocomplete": "off",
            }
        ),
    )

    def __init__(self, *args, with_files: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.with_files = with_files  # a message of files only may have no text

    def clean_body(self) -> str:
        body = self.cleaned_data.get("body", "")
        return _clean_with(lambda value: services.clean_body(value, allow_blank=self.with_files), body)


class EditForm(MessageForm):
    """The no-JS edit page: the same field, with room to see the whole message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].widget.attrs.update({"rows": 6, "placeholder": ""})


class TopicForm(forms.Form):
    """A new named conversation in a group: field `name`."""

    name = forms.CharField(
        label="New conversation",
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"placeholder": "Conversation name", "maxlength": 80, "autocomplete": "off"}),
    )

    def clean_name(self) -> str:
        return _clean_with(services.clean_topic_name, self.cleaned_data.get("name", ""))


class DirectForm(forms.Form):
    """Start a direct conversation: field `username`."""

    username = forms.CharField(
        label="Person",
        max_length=150,
        help_text="Their username or display name.",
        widget=forms.TextInput(
            attrs={
                "placeholder": "username or name",
                "autocomplete": "off",
                "autocapitalize": "none",
                "data-people-picker": "one",
            }
        ),
        error_messages={"required": "Enter the username or name of the person to write to."},
    )
