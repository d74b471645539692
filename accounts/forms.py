from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import BaseUserCreationForm, PasswordChangeForm

from accounts.models import User


def _check_max_length(password: str) -> str:
    if password and len(password) > settings.PASSWORD_MAX_LENGTH:
        raise forms.ValidationError(f"Use at most {settings.PASSWORD_MAX_LENGTH} characters.")
    return password


class SignupForm(BaseUserCreationForm):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))

    class Meta:
        model = User
        fields = ("username", "email")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with that email already exists. Log in instead.")
        return email

    def clean_password1(self) -> str:
        return _check_max_length(self.cleaned_data.get("password1", ""))


class LoginForm(forms.Form):
    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        max_length=settings.PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    remember_me = forms.BooleanField(required=False, label="Remember me")


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another account uses that email.")
        return email


class ChangePasswordForm(PasswordChangeForm):
    def clean_new_password1(self) -> str:
        password = _check_max_length(self.cleaned_data.get("new_password1", ""))
        password_validation.validate_password(password, self.user)
        return password
