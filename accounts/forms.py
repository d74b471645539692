"""Account forms: they parse and validate input; the writes happen in accounts/services.py."""

import zoneinfo
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    BaseUserCreationForm,
    PasswordChangeForm,
    SetPasswordForm,
)

import audit
from accounts import services, throttle
from accounts.models import User
from accounts.selectors import account_throttle_key
from chatsite.uploads import format_size

TAKEN_USERNAME = "That username is taken."
TAKEN_EMAIL = "An account with that email address already exists. Log in instead."
USED_EMAIL = "Another account uses that email address."


def _check_max_length(password: str) -> str:
    """Django has no maximum; one keeps the cost of hashing an attacker's input bounded."""
    if password and len(password) > settings.PASSWORD_MAX_LENGTH:
        raise forms.ValidationError(f"Use at most {settings.PASSWORD_MAX_LENGTH} characters.")
    return password


def check_current_password(user: User, password: str, *, address: str, incorrect: str, prompt: str) -> None:
    """Ask for the user's password again, throttled like the log-in page (the same counters).

    ValidationError with code `throttled` (too many recent failures: the password
    is not even checked) or `password_incorrect` (with the message `incorrect`).
    """
    try:
        attempt = throttle.attempt_begin(account=account_throttle_key(user), address=address)
    except throttle.LoginLocked as locked:
        minutes = max(1, round(locked.retry_after / 60))
        raise forms.ValidationError(
            f"Too many wrong passwords. Try again in about {minutes} minute{'s' if minutes != 1 else ''}.",
            code="throttled",
            params={"retry_after": locked.retry_after},
        ) from None
    if not user.check_password(password):
        audit.record(
            "login_failed", actor_id=user.pk, target_user_id=user.pk, address=address, detail={"prompt": prompt}
        )
        raise forms.ValidationError(incorrect, code="password_incorrect")
    throttle.attempt_succeeded(attempt)


def retry_after(form: forms.Form, field: str) -> int | None:
    """Seconds until a throttled password field may be tried again, or None when it was not throttled."""
    for error in form.errors.as_data().get(field, []):
        if error.code == "throttled":
            return error.params["retry_after"]
    return None


# Path segments under /people/ that are not profiles: nobody may take them as a username.
RESERVED_USERNAMES = {"search"}


def _username_free(username: str) -> str:
    if username and username.lower() in RESERVED_USERNAMES:
        raise forms.ValidationError(TAKEN_USERNAME)
    if username and User.objects.filter(username__iexact=username).exists():
        raise forms.ValidationError(TAKEN_USERNAME)
    return username


def _email_free(email: str, taken: str) -> str:
    """The address, unless an account has it already (in any letter case): then `taken`."""
    if User.objects.filter(email__iexact=email).exists():
        raise forms.ValidationError(taken)
    return email


class SignupForm(BaseUserCreationForm):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})

    def clean_username(self) -> str:
        return _username_free(self.cleaned_data["username"])

    def clean_email(self) -> str:
        return _email_free(self.cleaned_data["email"], TAKEN_EMAIL)

    def clean_password1(self) -> str:
        return _check_max_length(self.cleaned_data.get("password1", ""))


class LoginForm(forms.Form):
    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}),
    )
    password = forms.CharField(
        max_length=settings.PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    remember_me = forms.BooleanField(
        required=False, label="Remember me", help_text="Stay logged in on this device for two weeks."
    )


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone this Python knows, with "Not set" first."""
    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [("", "Not set"), ("UTC", "UTC"), *((z, z.replace("_", " ")) for z in zones)]


class ProfileForm(forms.Form):
    """Display name and email. Not a ModelForm: its unique check would tell whether an address is taken,
    and a new address only takes effect once confirmed from its mailbox (accounts.services.email_change_request)."""

    display_name = forms.CharField(
        label="Display name",
        max_length=80,
        required=False,
        help_text="What others see next to your messages. Leave empty to show your username.",
    )
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="Changing it sends a confirmation to the new address; it changes when you open the link.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        choices=time_zone_choices,
        help_text="Shown to others as your local time on your profile.",
        # The settings page's script preselects the browser's zone while this is unset.
        widget=forms.Select(attrs={"data-browser-time-zone": ""}),
    )

    def __init__(self, data=None, *, instance: User, **kwargs):
        self.instance = instance
        kwargs.setdefault(
            "initial", {"display_name": instance.display_name, "email": instance.email, "time_zone": instance.time_zone}
        )
        super().__init__(data, **kwargs)


class AvatarForm(forms.Form):
    """A new picture; what it must be is checked by accounts.avatars when it is stored."""

    avatar = forms.FileField(
        label="Picture",
        help_text="PNG, JPEG, GIF or WebP, at most {size}. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
        error_messages={"required": "Choose a picture to upload.", "empty": "That file is empty."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["avatar"].help_text = self.fields["avatar"].help_text.format(
            size=format_size(settings.AVATAR_MAX_BYTES)
        )


class ChangePasswordForm(PasswordChangeForm):
    """Django's form (old password, then the validators on the new one) with a maximum length,
    and the old password throttled like a log-in from `address`."""

    def __init__(self, *args, address: str = "", **kwargs):
        self.address = address
        super().__init__(*args, **kwargs)
        # The settings page opens on the profile form; do not jump down to this one.
        self.fields["old_password"].widget.attrs.pop("autofocus", None)

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        check_current_password(
            self.user,
            old_password,
            address=self.address,
            incorrect=self.error_messages["password_incorrect"],
            prompt="password_change",
        )
        return old_password

    def clean_new_password1(self) -> str:
        return _check_max_length(self.cleaned_data.get("new_password1", ""))


class DeleteAccountForm(forms.Form):
    """Deleting an account asks for the password again: a borrowed, unlocked session is not enough."""

    password = forms.CharField(
        label="Your password",
        max_length=settings.PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    delete_messages = forms.BooleanField(
        required=False,
        label="Also delete every message I wrote",
        help_text="Otherwise your messages stay in their conversations, shown as from “deleted user”.",
    )

    def __init__(self, user: User, *args, address: str = "", **kwargs):
        self.user = user
        self.address = address
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        check_current_password(
            self.user,
            password,
            address=self.address,
            incorrect="That is not your password. Nothing was deleted.",
            prompt="account_delete",
        )
        return password


class AdminSignupForm(AdminUserCreationForm):
    """The admin's "add user" form: email is required and both names are unique in any case."""

    email = forms.EmailField(max_length=254)

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_username(self) -> str:
        return _username_free(self.cleaned_data["username"])

    def clean_email(self) -> str:
        return _email_free(self.cleaned_data["email"], USED_EMAIL)


class AdminSetPasswordForm(AdminPasswordChangeForm):
    """The admin's "change password" form for a user, saved through the service that also ends
    the user's sessions' sockets (Django's own form only saves the hash)."""

    def save(self, commit: bool = True) -> User:
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        return services.user_set_password_by_staff(user=self.user, password=password)


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class PasswordResetForm(SetPasswordForm):
    """Django's new-password form (validators, both fields equal) with a maximum length."""

    def clean_new_password1(self) -> str:
        return _check_max_length(self.cleaned_data.get("new_password1", ""))


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none", "autofocus": True}
        ),
    )
    remember_device = forms.BooleanField(
        required=False,
        label="Remember this device for 30 days",
        help_text="Do not ask for a code on this browser again for 30 days.",
    )


class TwoFactorEnableForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordConfirmForm(forms.Form):
    """Turning two-factor off or making new recovery codes asks for the password again."""

    password = forms.CharField(
        label="Your password",
        max_length=settings.PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: User, *args, address: str = "", **kwargs):
        self.user = user
        self.address = address
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        check_current_password(
            self.user, password, address=self.address, incorrect="That is not your password.", prompt="two_factor"
        )
        return password
