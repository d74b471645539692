"""Reads about accounts that need a rule or a careful query."""

import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import User
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
