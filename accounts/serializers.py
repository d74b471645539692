"""A user as JSON, the one shape every page, endpoint and socket frame carries (docs/protocol.md)."""

from typing import Any

from accounts import avatars


def user_fields_json(user_id: int, username: str, display_name: str, avatar: str) -> dict[str, Any]:
    """`{"id", "username", "display_name", "avatar_url"}` from the columns of a user row (hand-written
    SQL reads them without building a User)."""
    return {
        "id": user_id,
        "username": username,
        "display_name": display_name,
        "avatar_url": avatars.avatar_url(username, avatar),
    }


def user_json(user) -> dict[str, Any] | None:
    """A user, or None. Never an email address: other people see this."""
    if user is None:
        return None
    return user_fields_json(user.pk, user.username, user.display_name, user.avatar)
