"""Keeps the sessions page current: which device, from where, last seen when."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from accounts import services
from chatsite.http import client_address

SEEN_AT = "activity_seen_at"  # in the session: when its UserSession row was last written
SEEN_KEY = "activity_seen_key"  # and under which session key (a password change rotates the key)


def session_touch(request: HttpRequest, user, *, force: bool = False) -> None:
    """Write the session's device, address and last-seen time, unless done in the last minute."""
    session = request.session
    key = session.session_key
    if not key:
        return
    now = timezone.now().timestamp()
    fresh = session.get(SEEN_KEY) == key and now - session.get(SEEN_AT, 0) < settings.SESSION_ACTIVITY_INTERVAL
    if fresh and not force:
        return
    services.session_record(
        session_key=key,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        address=client_address(request),
    )
    session[SEEN_AT] = now
    session[SEEN_KEY] = key


class SessionActivityMiddleware:
    """After the view: for a logged-in session, at most one small write a minute (none in between)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # No cookie, no session to describe: anonymous pages and /healthz do nothing here.
        if session is not None and session.session_key and request.user.is_authenticated:
            session_touch(request, request.user)
        return response


def on_login(sender, request: HttpRequest, user, **kwargs) -> None:
    """A new login session is listed at once (connected to `user_logged_in` in accounts/apps.py)."""
    if request is not None and hasattr(request, "session"):
        session_touch(request, user, force=True)


# Parts of the site an unverified account may still open with EMAIL_VERIFICATION=mandatory, by URL
# namespace (static files and /healthz are answered before or without a view of these checks).
_OPEN_NAMESPACES = frozenset({"accounts", "admin"})
_OPEN_VIEWS = frozenset({"healthz"})


class EmailVerificationMiddleware:
    """With EMAIL_VERIFICATION=mandatory, an unverified account is sent to the verify-your-email page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if (
            settings.EMAIL_VERIFICATION == "mandatory"
            and not _OPEN_NAMESPACES.intersection(match.namespaces)
            and match.url_name not in _OPEN_VIEWS
            and request.user.is_authenticated
            and not request.user.email_verified
        ):
            return redirect("accounts:verify_email")
        return None
