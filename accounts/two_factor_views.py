"""Two-factor pages: the code step of logging in, and turning it on and off in settings."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import throttle, two_factor
from accounts.forms import PasswordConfirmForm, TwoFactorCodeForm, TwoFactorEnableForm, retry_after
from accounts.models import User
from chatsite.errors import Invalid
from chatsite.http import client_address, form_error

PENDING = "two_factor_pending"  # in the (not yet logged-in) session: who gave the right password, and when
ENROL_SECRET = "two_factor_secret"  # noqa: S105 (a session key name) the secret being enrolled
CODE_FAILED = "That code is not right. Try the current code from your app, or a recovery code."


def login_continue(request: HttpRequest, user: User, *, remember_me: bool, next_url: str) -> HttpResponse:
    """The password was right and the account has two-factor: ask for the code before logging in."""
    request.session[PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "remember_me": remember_me,
        "next": next_url,
        "at": time.time(),
    }
    return redirect("accounts:login_two_factor")


def _pending_user(request: HttpRequest) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING) or {}
    if not pending or time.time() - pending.get("at", 0) > settings.TWO_FACTOR_PENDING_SECONDS:
        return None, {}
    return User.objects.filter(pk=pending.get("user"), is_active=True).first(), pending


def _locked(request: HttpRequest, locked: throttle.LoginLocked) -> HttpResponse:
    minutes = max(1, round(locked.retry_after / 60))
    context = {"minutes": minutes, "scope": locked.scope, "next_query": ""}
    response = render(request, "accounts/locked.html", context, status=429)
    response["Retry-After"] = str(locked.retry_after)
    return response


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_two_factor(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        request.session.pop(PENDING, None)
        messages.error(request, "Log in again: the code step timed out.")
        return redirect("accounts:login")
    form = TwoFactorCodeForm(request.POST or None)
    if request.method != "POST":
        return render(request, "accounts/login_two_factor.html", {"form": form})
    if not form.is_valid():
        return render(request, "accounts/login_two_factor.html", {"form": form}, status=400)
    try:
        # Codes are throttled like passwords: the same windows, their own account counter.
        attempt = throttle.attempt_begin(account=f"two-factor:{user.pk}", address=client_address(request))
    except throttle.LoginLocked as locked:
        return _locked(request, locked)
    if not two_factor.code_check(user=user, code=form.cleaned_data["code"]):
        form.add_error("code", CODE_FAILED)
        return render(request, "accounts/login_two_factor.html", {"form": form}, status=400)
    throttle.attempt_succeeded(attempt)
    del request.session[PENDING]
    login(request, user, backend=pending["backend"])
    request.session.set_expiry(settings.SESSION_COOKIE_AGE if pending.get("remember_me") else 0)
    response = redirect(pending.get("next") or settings.LOGIN_REDIRECT_URL)
    if form.cleaned_data["remember_device"]:
        two_factor.remember(response, user)
    return response


def _refused(form: PasswordConfirmForm) -> int:
    """400 for a wrong password, 429 when the password prompt is throttled (as on the settings page)."""
    return 429 if retry_after(form, "password") is not None else 400


def _page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    enabled = two_factor.is_enabled(user)
    context = {"enabled": enabled, "recovery_codes": forms.pop("recovery_codes", None)}
    if enabled:
        context["codes_left"] = two_factor.recovery_codes_left(user)
        context["disable_form"] = forms.get("disable_form") or PasswordConfirmForm(user)
        context["codes_form"] = forms.get("codes_form") or PasswordConfirmForm(user, prefix="codes")
    else:
        secret = request.session.get(ENROL_SECRET)
        if not secret:
            secret = request.session[ENROL_SECRET] = two_factor.new_secret()
        context["secret"] = secret
        context["qr"] = two_factor.qr_data_uri(user, secret)
        context["enable_form"] = forms.get("enable_form") or TwoFactorEnableForm()
    return render(request, "accounts/two_factor.html", context, status=status)


@login_required
@never_cache
@sensitive_post_parameters("password", "codes-password", "code")
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    user = request.user
    action = request.POST.get("action")
    if action == "enable":
        form = TwoFactorEnableForm(request.POST)
        secret = request.session.get(ENROL_SECRET)
        if not form.is_valid() or not secret:
            return _page(request, status=400, enable_form=form)
        try:
            codes = two_factor.two_factor_enable(user=user, secret=secret, code=form.cleaned_data["code"])
        except Invalid as error:
            return _page(request, status=form_error(form, "code", error), enable_form=form)
        del request.session[ENROL_SECRET]
        messages.success(request, "Two-factor authentication is on.")
        return _page(request, recovery_codes=codes)
    if action == "disable":
        form = PasswordConfirmForm(user, request.POST, address=client_address(request))
        if not form.is_valid():
            return _page(request, status=_refused(form), disable_form=form)
        two_factor.two_factor_disable(user=user)
        messages.success(request, "Two-factor authentication is off.")
        return redirect("accounts:two_factor")
    if action == "recovery_codes":
        form = PasswordConfirmForm(user, request.POST, prefix="codes", address=client_address(request))
        if not form.is_valid():
            return _page(request, status=_refused(form), codes_form=form)
        try:
            codes = two_factor.recovery_codes_regenerate(user=user)
        except Invalid as error:
            return _page(request, status=form_error(form, None, error), codes_form=form)
        messages.success(request, "New recovery codes made; the old ones no longer work.")
        return _page(request, recovery_codes=codes)
    return _page(request, status=400)
