"""Who opens a socket: the Django session of its cookie, and that session's user.

Replaces Channels' AuthMiddlewareStack (CookieMiddleware, SessionMiddleware,
AuthMiddleware) for /ws/. Those load the session and then the user in two hops
to asgiref's single shared thread, so every handshake of the process queued
behind every other; and each layer copied the scope and wrapped `send`. Here
both reads run in one hop on the sockets' worker pool, and the scope is copied
once.

The checks are Django's own (`django.contrib.auth.get_user`): an expired or
unknown session has no user; the session must name a configured backend, whose
`get_user` refuses inactive accounts; the session's hash must match the user's
current password hash (a password change ends the other sessions), otherwise
the session is flushed, as Django does. One difference: a hash that matches only
under SECRET_KEY_FALLBACKS is refused without touching the session, where
Django would rotate its key. A socket cannot hand the browser a new cookie, so
rotating here would end the browser's session and leave this socket listening
under a key no logout could name; the browser's next page load rotates it.

The consumer reads `scope["user"]` and `scope["session"].session_key` (the
session group that logout closes).
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.models import AnonymousUser
from django.http import parse_cookie
from django.utils.crypto import constant_time_compare

from messaging.realtime.workers import in_db_thread


def session_store(session_key: str | None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def user_for_session(session):
    """The session's user, or AnonymousUser: `django.contrib.auth.get_user` for a socket (see above).

    Blocks (database): call it from a worker thread.
    """
    try:
        user_id = session[SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    try:
        user_id = get_user_model()._meta.pk.to_python(user_id)
    except Exception:  # a session written by something else: no user
        return AnonymousUser()
    user = load_backend(backend_path).get_user(user_id)  # None for a missing or inactive account
    if user is None:
        return AnonymousUser()
    if hasattr(user, "get_session_auth_hash"):
        session_hash = session.get(HASH_SESSION_KEY)
        if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
            if session_hash and any(
                constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash()
            ):
                return AnonymousUser()  # valid, but to be rotated by a page load (see the module docstring)
            session.flush()
            return AnonymousUser()
    return user


def authenticate(session_key: str | None):
    """`(session, user)` for a session key from a cookie. Blocks (database)."""
    session = session_store(session_key)
    if not session_key:
        return session, AnonymousUser()
    return session, user_for_session(session)


def session_key_from_headers(headers) -> str | None:
    """The session cookie's value, from the first Cookie header, as Channels' CookieMiddleware reads it."""
    for name, value in headers:
        if name == b"cookie":
            return parse_cookie(value.decode("latin1")).get(settings.SESSION_COOKIE_NAME) or None
    return None


class SessionAuthMiddleware:
    """Sets `scope["session"]` and `scope["user"]` for the inner application, in one database hop."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        session_key = session_key_from_headers(scope["headers"])
        if session_key is None:
            session, user = session_store(None), AnonymousUser()  # nothing to look up
        else:
            session, user = await in_db_thread(authenticate)(session_key)  # the sockets' worker pool
        return await self.inner({**scope, "session": session, "user": user}, receive, send)
