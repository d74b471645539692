"""Forms of the group pages: they parse and shape-check input; the services hold the rules."""

import re

from django import forms

from groups.models import Group, Membership

# One create form may name this many people; more is almost certainly a paste gone wrong.
MAX_MEMBERS_AT_CREATE = 200

_SEPARATORS = re.compile(r"[\s,;]+")


def parse_usernames(text: str) -> list[str]:
    """Usernames from free text: separated by commas and/or whitespace, an optional leading "@",
    first spelling kept, duplicates dropped ignoring letter case."""
    seen: dict[str, str] = {}
    for token in _SEPARATORS.split(text or ""):
        name = token.strip().lstrip("@")
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


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
        help_text="Usernames, separated by commas or spaces. You join as the owner.",
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off", "placeholder": "bob, carol"}),
    )

    def clean_members(self) -> list[str]:
        names = parse_usernames(self.cleaned_data.get("members", ""))
        if len(names) > MAX_MEMBERS_AT_CREATE:
            raise forms.ValidationError(f"Add at most {MAX_MEMBERS_AT_CREATE} people at once; add more later.")
        return names


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


class MemberAddForm(forms.Form):
    username = forms.CharField(
        label="Username",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "username"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lstrip("@")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(Membership.Role.ADMIN, "Admin"), (Membership.Role.MEMBER, "Member")])


class TransferForm(forms.Form):
    """Whom to hand the group to; the page offers the current members, the service checks membership."""

    username = forms.CharField(label="New owner", max_length=150, widget=forms.Select)

    def set_candidates(self, memberships: list[Membership]) -> None:
        """Offer these members in the select (the page knows them; the form does not query)."""
        choices = [("", "Choose a member…")]
        choices += [(m.user.username, f"{m.user.name} (@{m.user.username})") for m in memberships]
        self.fields["username"].widget.choices = choices


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
