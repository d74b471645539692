from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import services, throttle
from accounts.forms import ChangePasswordForm, LoginForm, ProfileForm, SignupForm
from accounts.selectors import login_account_key


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def client_address(request: HttpRequest) -> str:
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def home(request: HttpRequest) -> HttpResponse:
    return redirect("messaging:list" if request.user.is_authenticated else "accounts:login")


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = services.user_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            request.session.set_expiry(0)  # a browser-session cookie until "remember me"
            return redirect(_safe_next(request))
        return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request)}, status=400)
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request)})


@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": _safe_next(request)}
    if request.method != "POST":
        return render(request, "accounts/login.html", context)
    if not form.is_valid():
        return render(request, "accounts/login.html", context, status=400)

    identifier = form.cleaned_data["username"]
    account = login_account_key(identifier)
    address = client_address(request)
    wait = throttle.retry_after(account=account, address=address)
    if wait:
        minutes = max(1, round(wait / 60))
        response = render(request, "accounts/locked.html", {"minutes": minutes}, status=429)
        response["Retry-After"] = str(wait)
        return response

    user = authenticate(request, username=identifier, password=form.cleaned_data["password"])
    if user is None:
        throttle.record_failure(account=account, address=address)
        form.add_error(None, "That username or email and password do not match an account.")
        return render(request, "accounts/login.html", context, status=400)

    throttle.reset_account(account=account)
    login(request, user)  # rotates the session key
    request.session.set_expiry(settings.SESSION_COOKIE_AGE if form.cleaned_data["remember_me"] else 0)
    return redirect(_safe_next(request))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)  # flushes the session server-side
    return redirect("accounts:login")


@login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
def settings_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile_form = ProfileForm(instance=user)
    password_form = ChangePasswordForm(user)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            profile_form = ProfileForm(request.POST, instance=user)
            if profile_form.is_valid():
                services.user_update_profile(user=user, **profile_form.cleaned_data)
                messages.success(request, "Profile saved.")
                return redirect("accounts:settings")
        elif action == "password":
            password_form = ChangePasswordForm(user, request.POST)
            if password_form.is_valid():
                services.user_change_password(
                    request=request, user=user, password=password_form.cleaned_data["new_password1"]
                )
                messages.success(request, "Password changed. Your other sessions have been logged out.")
                return redirect("accounts:settings")
        user.refresh_from_db()
        context = {"profile_form": profile_form, "password_form": password_form}
        return render(request, "accounts/settings.html", context, status=400)
    return render(request, "accounts/settings.html", {"profile_form": profile_form, "password_form": password_form})
