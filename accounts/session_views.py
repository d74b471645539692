"""The sessions part of the settings page: log out one session, or every other one."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts import services
from accounts.selectors import session_key_by_public_id
from chatsite.errors import NotFound
from chatsite.http import domain_errors


@require_POST
@login_required
@domain_errors
def session_logout(request: HttpRequest, session_id: str) -> HttpResponse:
    key = session_key_by_public_id(request.user, session_id)
    if key is None:
        raise NotFound("That session has already ended.")
    if key == request.session.session_key:  # this device: a plain log-out
        services.session_end(user=request.user, session_key=key)
        logout(request)
        return redirect("accounts:login")
    services.session_end(user=request.user, session_key=key)
    messages.success(request, "That session is logged out.")
    return redirect("accounts:settings")


@require_POST
@login_required
def sessions_logout_others(request: HttpRequest) -> HttpResponse:
    ended = services.sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
    messages.success(request, f"Logged out {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("accounts:settings")
