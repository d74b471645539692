"""The conversations' part of an account's data rights (accounts/registry.py): the messages the
user wrote in the export (streamed, oldest first), and on deletion: direct conversations whose
other side is already gone, the user's messages (and their files) when asked, and their sockets told.
The export also lists the user's files; the settings page shows the storage they take."""

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Q

from messaging import attachments, events, services
from messaging.models import Conversation, Message
from messaging.realtime.selectors import conversation_ids_for_user
from messaging.serializers import user_json

EXPORT_PAGE_SIZE = 1000  # messages fetched and written per chunk of the data export


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def message_pages(user) -> Iterator[list[dict[str, Any]]]:
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


def remove_account(user, *, delete_messages: bool = False, **kwargs) -> None:
    """Messages stay, shown as from "deleted user" (`Message.author` becomes null with the account), or
    with `delete_messages` are erased as a single message is; direct conversations stay for the other
    person, but one whose other side is already gone is deleted; the user's sockets lose everything."""
    directs = Conversation.objects.filter(Q(user_low=user) | Q(user_high=user), kind=Conversation.Kind.DIRECT)
    # Nobody is left to read a direct conversation whose other side was deleted before.
    directs.filter(Q(user_low__isnull=True) | Q(user_high__isnull=True)).delete()
    if delete_messages:
        services.message_erase(Message.objects.filter(author=user), hide_author=True)
    conversation_ids = list(
        Conversation.objects.filter(Q(group__memberships__user=user) | Q(user_low=user) | Q(user_high=user))
        .values_list("pk", flat=True)
        .distinct()
    )
    if conversation_ids:
        events.conversations_removed([user.pk], conversation_ids)


def profile_changed(user) -> None:
    """A new display name: every page showing the user's name updates live (`user.updated`)."""
    events.user_updated(user_json(user), sorted(conversation_ids_for_user(user)))


def storage_panel(user) -> dict[str, Any]:
    """The settings page's line on the storage the user's files take of their quota."""
    used = attachments.storage_used(user)
    quota = settings.ATTACHMENT_QUOTA_BYTES
    return {
        "used": attachments.format_size(used),
        "quota": attachments.format_size(quota),
        "percent": min(100, round(100 * used / quota)),
    }


def register() -> None:
    from accounts import registry

    registry.export_section("files", attachments.files_for_export)
    registry.settings_panel("messaging/_storage_usage.html", storage_panel)
    registry.export_stream("messages", message_pages)
    registry.on_delete(remove_account)
    registry.on_profile_change(profile_changed)
