"""Account pages: thin adapters over accounts/services.py, selectors.py and throttle.py."""

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

import audit
from accounts import avatars, registry, services, throttle, two_factor, two_factor_views
from accounts.forms import (
    AvatarForm,
    ChangePasswordForm,
    DeleteAccountForm,
    LoginForm,
    ProfileForm,
    SignupForm,
    retry_after,
)
from accounts.models import User
from accounts.selectors import login_account_key, sessions_for_user, user_data_export
from chatsite import ratelimit, sockets
from chatsite.errors import Invalid, RateLimited
from chatsite.http import client_address, form_error
from chatsite.uploads import upload_limit, upload_stopped

LOGIN_FAILED = "That username or email and password do not match an account."
SOCKET_SESSION_KEYS = services.SOCKET_SESSION_KEYS


def _safe_next(request: HttpRequest) -> str:
    """The `next` URL when it stays on this site, else the chats page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _next_context(request: HttpRequest) -> dict[str, str]:
    """`next` for the hidden field, and `next_query` to carry it over to the other auth page's link."""
    target = _safe_next(request)
    query = "" if target == resolve_url(settings.LOGIN_REDIRECT_URL) else "?" + urlencode({"next": target})
    return {"next": target, "next_query": query}


def home(request: HttpRequest) -> HttpResponse:
    return redirect("messaging:list" if request.user.is_authenticated else "accounts:login")


@sensitive_post_parameters("password1", "password2")
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignupForm(request.POST or None)
    context = {"form": form, **_next_context(request)}
    if request.method != "POST":
        return render(request, "accounts/signup.html", context)
    try:  # sign-up says when an email is taken, so it is counted per client address
        ratelimit.check(
            scope="signup-address",
            ident=client_address(request),
            limit=settings.SIGNUP_MAX_PER_ADDRESS,
            window=3600,
        )
    except RateLimited as error:
        return render(request, "accounts/signup.html", context, status=form_error(form, None, error))
    if form.is_valid():
        try:
            user = services.user_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:  # taken by a concurrent sign-up since the form checked
            form.add_error(None, error)
        except Invalid as error:
            form_error(form, None, error)
        else:
            services.email_verification_send(user=user)
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            request.session.set_expiry(0)  # a browser-session cookie, as a login without "remember me"
            return redirect(_safe_next(request))
    return render(request, "accounts/signup.html", context, status=400)


def _locked(request: HttpRequest, locked: throttle.LoginLocked) -> HttpResponse:
    minutes = max(1, round(locked.retry_after / 60))
    context = {"minutes": minutes, "scope": locked.scope, **_next_context(request)}
    response = render(request, "accounts/locked.html", context, status=429)
    response["Retry-After"] = str(locked.retry_after)
    return response


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    context = {"form": form, **_next_context(request)}
    if request.method != "POST":
        return render(request, "accounts/login.html", context)
    if not form.is_valid():
        return render(request, "accounts/login.html", context, status=400)

    identifier = form.cleaned_data["username"]
    account = login_account_key(identifier)
    try:
        # Counted as a failure before the password is checked, so parallel guesses cannot overshoot.
        attempt = throttle.attempt_begin(account=account, address=client_address(request))
    except throttle.LoginLocked as locked:
        audit.record(
            "login_throttled",
            address=client_address(request),
            detail={"username": identifier, "scope": locked.scope},
        )
        return _locked(request, locked)

    user = authenticate(request, username=identifier, password=form.cleaned_data["password"])
    if user is None:
        form.add_error(None, LOGIN_FAILED)
        return render(request, "accounts/login.html", context, status=400)

    throttle.attempt_succeeded(attempt)
    if two_factor.is_enabled(user) and not two_factor.remembered(request, user):
        return two_factor_views.login_continue(
            request, user, remember_me=form.cleaned_data["remember_me"], next_url=_safe_next(request)
        )
    login(request, user)  # a new session key: a key planted before login is worth nothing
    request.session.set_expiry(settings.SESSION_COOKIE_AGE if form.cleaned_data["remember_me"] else 0)
    return redirect(_safe_next(request))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    keys = {request.session.session_key, *request.session.get(SOCKET_SESSION_KEYS, [])}
    for key in sorted(k for k in keys if k):
        sockets.close_session_sockets(key)
    logout(request)  # flushes the session server-side
    return redirect("accounts:login")


def _settings_page(
    request: HttpRequest,
    *,
    status: int = 200,
    profile_form: ProfileForm | None = None,
    password_form: ChangePasswordForm | None = None,
    delete_form: DeleteAccountForm | None = None,
    avatar_form: AvatarForm | None = None,
) -> HttpResponse:
    """The settings page, with the form that was just posted (and its errors) in place of its empty one."""
    user = request.user
    context = {
        "profile_form": profile_form if profile_form is not None else ProfileForm(instance=user),
        "password_form": password_form if password_form is not None else ChangePasswordForm(user),
        "delete_form": delete_form if delete_form is not None else DeleteAccountForm(user),
        "avatar_form": avatar_form if avatar_form is not None else AvatarForm(),
        "sessions": sessions_for_user(user, current_key=request.session.session_key),
        "two_factor_enabled": two_factor.is_enabled(user),
        "missed_message_minutes": settings.MISSED_MESSAGE_DELAY // 60,
        "themes": User.Theme.choices,
        # What the apps above show here (accounts/registry.py): e.g. the storage files take.
        "panels": [(template, read(user)) for template, read in registry.settings_panels()],
    }
    response = render(request, "accounts/settings.html", context, status=status)
    # A password prompt refused by the throttle: 429, with when to try again.
    for form, field in ((password_form, "old_password"), (delete_form, "password")):
        wait = retry_after(form, field) if form is not None and form.is_bound else None
        if wait is not None:
            response.status_code = 429
            response["Retry-After"] = str(wait)
    return response


@login_required
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
def settings_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method != "POST":
        return _settings_page(request)
    action = request.POST.get("action")
    if action == "profile":
        form = ProfileForm(request.POST, instance=user)
        if not form.is_valid():
            return _settings_page(request, status=400, profile_form=form)
        services.user_update_profile(
            user=user, display_name=form.cleaned_data["display_name"], time_zone=form.cleaned_data["time_zone"]
        )
        new_email = form.cleaned_data["email"]
        if new_email.lower() == user.email.lower():
            messages.success(request, "Profile saved.")
        else:  # the same answer whether or not the address is taken (its owner is told by mail)
            new_email = services.email_change_request(user=user, new_email=new_email)
            messages.success(
                request, f"Profile saved. We sent a confirmation to {new_email}: open the link in it to switch."
            )
        return redirect("accounts:settings")
    if action == "notifications":
        enabled = request.POST.get("missed_message_email") == "on"
        services.missed_message_email_set(user=user, enabled=enabled)
        messages.success(request, "Email about missed messages is " + ("on." if enabled else "off."))
        return redirect("accounts:settings")
    if action == "theme":
        try:
            services.user_set_theme(user=user, theme=request.POST.get("theme", ""))
        except Invalid as error:
            messages.error(request, error.detail)
            return _settings_page(request, status=400)
        messages.success(request, "Theme saved.")
        return redirect("accounts:settings")
    if action == "password":
        form = ChangePasswordForm(user, request.POST, address=client_address(request))
        if form.is_valid():
            old_key = request.session.session_key
            services.user_change_password(
                user=user, password=form.cleaned_data["new_password1"], keep_session_key=old_key
            )
            update_session_auth_hash(request, user)  # this device stays logged in, under a new session key
            # Its open sockets still know the old key: remember it so logging out closes them too.
            request.session[SOCKET_SESSION_KEYS] = [*request.session.get(SOCKET_SESSION_KEYS, []), old_key][-5:]
            messages.success(request, "Password changed. Your other devices have been logged out.")
            return redirect("accounts:settings")
        return _settings_page(request, status=400, password_form=form)
    return _settings_page(request, status=400)


@upload_limit(file_bytes="AVATAR_MAX_BYTES", files=1)
@login_required
def avatar_view(request: HttpRequest) -> HttpResponse:
    """POST /accounts/settings/avatar/: upload a picture (`avatar`), or remove it (`action=remove`).
    GET (the way back from the upload wall's "too large" page) goes to the settings page."""
    if request.method != "POST":
        return redirect("accounts:settings")
    if request.POST.get("action") == "remove":
        services.user_set_avatar(user=request.user, upload=None)
        messages.success(request, "Picture removed. Others see your initial again.")
        return redirect("accounts:settings")
    form = AvatarForm(request.POST, request.FILES)
    if upload_stopped(request):  # stopped while it streamed in (chatsite/uploads.py): not in request.FILES
        form = AvatarForm(request.POST)
        form.add_error("avatar", avatars.too_large().detail)
        return _settings_page(request, status=413, avatar_form=form)
    if not form.is_valid():
        return _settings_page(request, status=400, avatar_form=form)
    try:
        services.user_set_avatar(user=request.user, upload=form.cleaned_data["avatar"])
    except Invalid as error:
        form.add_error("avatar", error.detail)
        return _settings_page(request, status=413 if error.code == "too_large" else 400, avatar_form=form)
    messages.success(request, "Picture saved.")
    return redirect("accounts:settings")


@login_required
@require_GET
def export_view(request: HttpRequest) -> StreamingHttpResponse:
    """Download my data: a JSON file, streamed so a long history never sits in memory."""
    chunks = user_data_export(request.user)
    content = _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks
    response = StreamingHttpResponse(content, content_type="application/json; charset=utf-8")
    filename = f"chatsite-{request.user.username}-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


async def _async_chunks(chunks: Iterator[str]) -> AsyncIterator[str]:
    """Under ASGI Django would read a plain iterator to the end before sending; feed it a page at a time."""
    next_chunk = sync_to_async(next, thread_sensitive=True)
    while (chunk := await next_chunk(chunks, None)) is not None:
        yield chunk


@login_required
@require_POST
@sensitive_post_parameters("password")
def delete_view(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.user, request.POST, address=client_address(request))
    if not form.is_valid():
        return _settings_page(request, status=400, delete_form=form)
    services.user_delete(user=request.user, delete_messages=form.cleaned_data["delete_messages"])
    logout(request)
    messages.success(request, "Your account has been deleted.")
    return redirect("accounts:login")
