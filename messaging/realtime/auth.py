"""Who opens a socket: the Django session of its cookie, and that session's user.

Replaces Channels' AuthMiddlewareStack (CookieMiddleware, SessionMiddleware,
AuthMiddleware) for /ws/. Those load the session and then the user in two hops
to asgiref's single shared thread, so every handshake of the process queued
behind every other; and each layer copied the scope and wrapped `send`. Here
both reads run in one hop on the sockets' worker pool, and the scope is copied
once. With the database session store (the default), they are one query: the
session row joined through the sessions page's row (accounts.UserSession, written
at login) to its user, which stands in for the backend's lookup when the backend
is a ModelBackend with Django's `get_user`; a session without that row (made
some other way) falls back to the backend's own lookup.

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
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import parse_cookie
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.backends import UsernameOrEmailBackend
from accounts.models import UserSession
from messaging import rawsql
from messaging.realtime.workers import in_db_thread

# Session engines that keep Django's database rows (accounts/sessions.py reads them by hand-written SQL).
DB_SESSIONS = ("accounts.sessions", "django.contrib.sessions.backends.db")
# Backends whose `get_user` is ModelBackend's: a get by primary key, then `user_can_authenticate`
# (UsernameOrEmailBackend's is that lookup written in SQL; tests/accounts/test_backends.py holds them equal).
_MODEL_GET_USERS = (ModelBackend.get_user, UsernameOrEmailBackend.get_user)

_User = get_user_model()
_USER_FIELDS = tuple(_User._meta.concrete_fields)
# The session row and, through the sessions page's row (accounts.UserSession, written at login), its
# user: one query where Django's session store and auth backend make two, each through the ORM.
_SESSION_AND_USER_SQL = f"""
    SELECT s.session_data, {", ".join(f"u.{field.column}" for field in _USER_FIELDS)}
    FROM {Session._meta.db_table} s
    LEFT JOIN {UserSession._meta.db_table} a ON a.session_id = s.session_key
    LEFT JOIN {_User._meta.db_table} u ON u.{_User._meta.pk.column} = a.user_id
    WHERE s.session_key = %s AND s.expire_date > %s
"""  # noqa: S608 (table names come from the models, values are parameters)


def session_store(session_key: str | None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def _backend_user(backend_path: str, user_id, known):
    """`load_backend(backend_path).get_user(user_id)`; without a query when `known` is that user, read
    with the session, and the backend is a ModelBackend whose `get_user` is Django's (a get by primary
    key, then `user_can_authenticate`) or the same written in SQL (`_MODEL_GET_USERS`)."""
    backend = load_backend(backend_path)
    if (
        known is not None
        and known.pk == user_id
        and isinstance(backend, ModelBackend)
        and type(backend).get_user in _MODEL_GET_USERS
    ):
        return known if backend.user_can_authenticate(known) else None
    return backend.get_user(user_id)


def user_for_session(session, known=None):
    """The session's user, or AnonymousUser: `django.contrib.auth.get_user` for a socket (see above).

    `known`: the user the session's row names (read with it), if any. Blocks (database): call it
    from a worker thread.
    """
    try:
        user_id = session[SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    try:
        user_id = _User._meta.pk.to_python(user_id)
    except Exception:  # a session written by something else: no user
        return AnonymousUser()
    user = _backend_user(backend_path, user_id, known)  # None for a missing or inactive account
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


def _load_with_user(session):
    """Load a database session as `SessionStore.load` does, in one query with its user: the user, or None
    when the session has no sessions-page row (then the backend looks the user up)."""
    row = rawsql.fetch_one(
        _SESSION_AND_USER_SQL,
        [session.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
        (None, *_USER_FIELDS),
    )
    if row is None:  # missing or expired: as `load` leaves it
        session._session_key = None
        session._session_cache = {}
        return None
    session._session_cache = session.decode(row[0])
    if row[1] is None:
        return None
    return _User.from_db(connection.alias, [field.attname for field in _USER_FIELDS], row[1:])


def authenticate(session_key: str | None):
    """`(session, user)` for a session key from a cookie. Blocks (database)."""
    session = session_store(session_key)
    if not session.session_key:  # none, or not a well-formed key: nothing to look up
        return session, AnonymousUser()
    known = _load_with_user(session) if settings.SESSION_ENGINE in DB_SESSIONS else None
    return session, user_for_session(session, known)


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
