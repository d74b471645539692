"""The JSON shapes of the public contract (docs/protocol.md), built in one place."""

from typing import Any

from messaging.attachments import attachment_json, load_for_messages
from messaging.models import Conversation, Message


def user_json(user) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


DELETED_USER = {"id": None, "username": "deleted", "display_name": "deleted user"}


def message_json(message: Message) -> dict[str, Any]:
    """A message as the history endpoint and every socket frame carry it.

    Its files come from `attachment_list`, loaded for a whole page by
    `messaging.attachments.load_for_messages` (one query); a lone message without it loads its own.
    """
    if message.deleted:
        attachments = []
    else:
        if not hasattr(message, "attachment_list"):
            load_for_messages([message])
        attachments = [attachment_json(a) for a in message.attachment_list]
    return {
        "id": message.pk,
        "seq": message.seq,
        "conversation": message.conversation_id,
        "author": user_json(message.author) if message.author_id else DELETED_USER,
        "body": "" if message.deleted else message.body,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted,
        "attachments": attachments,
    }


def conversation_title(conversation: Conversation, viewer) -> str:
    """What a user calls a conversation: "group / topic", or the other person's name."""
    if conversation.is_direct:
        other = conversation.user_high if conversation.user_low_id == viewer.pk else conversation.user_low
        return other.name if other else "deleted user"
    return f"{conversation.group.name} / {conversation.name}"


def conversation_json(conversation: Conversation, viewer, *, unread: int = 0) -> dict[str, Any]:
    """The `conversation.added` payload."""
    group = conversation.group
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "name": conversation_title(conversation, viewer),
        "group": {"id": group.pk, "name": group.name} if group else None,
        "last_seq": conversation.last_seq,
        "unread": unread,
    }
