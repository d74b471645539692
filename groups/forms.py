"""Forms of the group pages: they parse and shape-check input; the services hold the rules."""

import re

from django import forms

from groups.models import Group, Membership

# One create form may name this many people; more is almost certainly a paste gone wrong.
MAX_MEMBERS_AT_CREATE = 200

# Entries are separated by commas, semicolons or line breaks; spaces belong to a name ("Grace Hopper").
_SEPARATORS = re.compile(r"[,;\n\r]+")


def parse_member_entries(text: str) -> list[str]:
    """The people named in a members field: one entry per comma, semicolon or line, each a username
    (optional leading "@") or a display name; inner spaces collapsed, first spelling kept, repeats
    dropped ignoring letter case. `accounts.selectors.users_by_names` resolves them (and still reads
    "bob carol", which is nobody's display name, as two usernames)."""
    seen: dict[str, str] = {}
    for token in _SEPARATORS.split(text or ""):
        name = " ".join(token.split())
        if name.startswith("@"):
            name = name[1:].strip()
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


VISIBILITY_CHOICES = [("private", "Private: only people a manager adds"), ("public", "Public: listed, anyone can join")]


def _visibility_field(*, initial: str = "private") -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Who can join",
        choices=VISIBILITY_CHOICES,
        required=False,
        initial=initial,
        widget=forms.RadioSelect,
    )


class GroupCreateForm(forms.Form):
    name = forms.CharField(
        label="Group name",
        max_length=Group._meta.get_field("name").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "placeholder": "Weekend hikers"}),
    )
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=Group._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    members = forms.CharField(
        label="Members",
        required=False,
        help_text="Usernames or display names, separated by commas or new lines. You join as the owner.",
        # One line, not a textarea: the combobox role belongs on an input.
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "placeholder": "bob, Grace Hopper", "data-people-picker": "multiple"}
        ),
    )
    visibility = _visibility_field()

    def clean_members(self) -> list[str]:
        names = parse_member_entries(self.cleaned_data.get("members", ""))
        if len(names) > MAX_MEMBERS_AT_CREATE:
            raise forms.ValidationError(f"Add at most {MAX_MEMBERS_AT_CREATE} people at once; add more later.")
        return names

    def clean_visibility(self) -> bool:
        return self.cleaned_data.get("visibility") == "public"


class GroupEditForm(forms.Form):
    name = forms.CharField(
        label="Group name",
        max_length=Group._meta.get_field("name").max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=Group._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    visibility = _visibility_field()

    def clean_visibility(self) -> bool | None:
        """True for public, False for private, None (left as it is) when not posted."""
        value = self.cleaned_data.get("visibility")
        return None if not value else value == "public"


def _person_input(placeholder: str) -> forms.TextInput:
    """A text field the people picker (static/js/combobox.js) turns into a combobox."""
    return forms.TextInput(
        attrs={"autocomplete": "off", "autocapitalize": "none", "placeholder": placeholder, "data-people-picker": "one"}
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(
        label="Person",
        max_length=150,
        help_text="A username or display name.",
        widget=_person_input("username or name"),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(Membership.Role.ADMIN, "Admin"), (Membership.Role.MEMBER, "Member")])


class TransferForm(forms.Form):
    """Whom to hand the group to: a member's username or display name; the service checks membership."""

    username = forms.CharField(
        label="New owner",
        max_length=150,
        help_text="A member's username or display name.",
        widget=_person_input("a member"),
    )

    def __init__(self, *args, group_id: int | None = None, **kwargs):
        kwargs.setdefault("auto_id", "id_transfer_%s")  # the add-member field on the same page is id_username
        super().__init__(*args, **kwargs)
        if group_id is not None:  # suggestions from this group's members only
            self.fields["username"].widget.attrs["data-people-group"] = str(group_id)

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip()


class EmptyForm(forms.Form):
    """Actions without fields (leave, delete): the form only carries the CSRF token and its errors."""


class InviteCreateForm(forms.Form):
    expires = forms.ChoiceField(
        label="Expires after",
        choices=[("1d", "1 day"), ("7d", "7 days"), ("never", "Never")],
        initial="7d",
    )
    max_uses = forms.IntegerField(
        label="Use limit (optional)",
        required=False,
        min_value=1,
        max_value=10000,
        help_text="How many people can join with it. Empty: no limit.",
    )
    email = forms.EmailField(
        label="Email it to (optional)",
        required=False,
        max_length=254,
        help_text="We mail the link to this address.",
    )
