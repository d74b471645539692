"""Reads about accounts that need a rule or a careful query."""

import json
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from accounts import registry
from accounts.models import User


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
    head: dict[str, Any] = {
        "exported_at": _iso(timezone.now()),
        "profile": {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
    }
    for name, read in registry.sections():  # what the apps above hold (memberships, ...)
        head[name] = read(user)
    return head


def user_data_export(user: User) -> Iterator[str]:
    """The user's data as one JSON document, written in chunks so a long history is never held in memory.

    `{"exported_at", "profile", ...the registered sections (accounts/registry.py)...}`;
    the streamed section (the messages, oldest first) comes last.
    """
    head = json.dumps(_export_head(user), ensure_ascii=False, indent=1)
    streamed = registry.stream()
    if streamed is None:
        yield head + "\n"
        return
    name, pages = streamed
    yield head[: head.rindex("}")].rstrip() + f",\n {json.dumps(name)}: ["
    first = True
    for page in pages(user):
        text = ",\n  ".join(json.dumps(item, ensure_ascii=False) for item in page)
        yield ("\n  " if first else ",\n  ") + text
        first = False
    yield "\n ]\n}\n"
