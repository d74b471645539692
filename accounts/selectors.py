"""Reads about accounts that need a rule or a careful query."""

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User, UserSession
from groups.models import Membership
from messaging.models import Message

EXPORT_PAGE_SIZE = 1000  # messages fetched and written per chunk of the data export


def user_by_login(identifier: str) -> User | None:
    """The account a login name points at: username or email, ignoring letter case."""
    identifier = identifier.strip()
    field = "email__iexact" if "@" in identifier else "username__iexact"
    return User.objects.filter(**{field: identifier}).first()


def account_throttle_key(user: User) -> str:
    """An account's identity in the password throttle (accounts/throttle.py)."""
    return f"user:{user.pk}"


def login_account_key(identifier: str) -> str:
    """The throttling identity: the account when it exists, else the normalised text."""
    user = user_by_login(identifier)
    return account_throttle_key(user) if user else f"name:{identifier.strip().lower()}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _export_head(user: User) -> dict[str, Any]:
    memberships = Membership.objects.filter(user=user).select_related("group").order_by("joined_at", "pk")
    return {
        "exported_at": _iso(timezone.now()),
        "profile": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "memberships": [
            {
                "group": {"id": m.group_id, "name": m.group.name},
                "role": m.role,
                "joined_at": _iso(m.joined_at),
            }
            for m in memberships
        ],
    }


def _message_pages(user: User) -> Iterator[list[dict[str, Any]]]:
    """Every message the user wrote, a page at a time (keyset by id: no cursor stays open between pages)."""
    fields = ("pk", "conversation_id", "seq", "body", "created_at", "edited_at", "deleted")
    last_pk = 0
    while True:
        rows = list(
            Message.objects.filter(author=user, pk__gt=last_pk).order_by("pk").values(*fields)[:EXPORT_PAGE_SIZE]
        )
        if not rows:
            return
        last_pk = rows[-1]["pk"]
        yield [
            {
                "conversation": row["conversation_id"],
                "seq": row["seq"],
                "body": "" if row["deleted"] else row["body"],
                "created_at": _iso(row["created_at"]),
                "edited_at": _iso(row["edited_at"]),
                "deleted": row["deleted"],
            }
            for row in rows
        ]


def user_data_export(user: User) -> Iterator[str]:
    """The user's data as one JSON document, written in chunks so a long history is never held in memory.

    `{"exported_at", "profile", "memberships": [...], "messages": [...]}`; the
    messages, oldest first, come last so they can stream.
    """
    head = json.dumps(_export_head(user), ensure_ascii=False, indent=1)
    yield head[: head.rindex("}")].rstrip() + ',\n "messages": ['
    first = True
    for page in _message_pages(user):
        text = ",\n  ".join(json.dumps(message, ensure_ascii=False) for message in page)
        yield ("\n  " if first else ",\n  ") + text
        first = False
    yield "\n ]\n}\n"


def user_for_password_reset(email: str) -> User | None:
    """The active account a reset link may be mailed to: its address must be verified, unless verification is off."""
    users = User.objects.filter(email__iexact=email.strip(), is_active=True)
    if settings.EMAIL_VERIFICATION != "off":
        users = users.filter(email_verified=True)
    return users.first()


def session_public_id(session_key: str) -> str:
    """How pages and URLs name a session: never its key, which is as good as the cookie."""
    return salted_hmac("accounts.session-id", session_key).hexdigest()[:20]


def device_name(user_agent: str) -> str:
    """ "Firefox on Windows" from a User-Agent header: enough to recognise one's own devices."""
    ua = user_agent or ""
    browser = next((name for token, name in _BROWSERS if token in ua), "")
    system = next((name for token, name in _SYSTEMS if token in ua), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("python-requests", "Script"),
    ("curl/", "curl"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def sessions_for_user(user: User, *, current_key: str | None) -> list[dict[str, Any]]:
    """The user's live login sessions for the sessions page, the current one first, then by last seen."""
    rows = (
        UserSession.objects.filter(user=user, session__expire_date__gt=timezone.now())
        .select_related("session")
        .order_by("-last_seen")
    )
    sessions = [
        {
            "id": session_public_id(row.session_id),
            "device": device_name(row.user_agent),
            "user_agent": row.user_agent,
            "address": row.address,
            "last_seen": row.last_seen,
            "created_at": row.created_at,
            "current": row.session_id == current_key,
        }
        for row in rows
    ]
    return sorted(sessions, key=lambda s: not s["current"])


def session_key_by_public_id(user: User, public_id: str) -> str | None:
    """The key of the user's session with this public id (None: gone, or someone else's)."""
    for key in UserSession.objects.filter(user=user).values_list("session_id", flat=True):
        if constant_time_compare(session_public_id(key), public_id):
            return key
    return None
