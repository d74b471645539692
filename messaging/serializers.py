"""The JSON shapes of the public contract (docs/protocol.md), built in one place."""

from typing import Any

from django.conf import settings

from accounts.serializers import user_json
from messaging.attachments import attachment_json, load_for_messages
from messaging.models import Conversation, Message

__all__ = ["user_json"]  # the one builder (accounts.serializers), where messaging's shapes are looked for

DELETED_USER = {"id": None, "username": "deleted", "display_name": "deleted user", "avatar_url": None}


REPLY_SNIPPET_LENGTH = 80  # characters of the original shown above a reply


def snippet(body: str, length: int = REPLY_SNIPPET_LENGTH) -> str:
    """The first words of a body on one line (the raw text: pages escape it, scripts set it as text)."""
    text = " ".join(body.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def reply_json(message: Message) -> dict[str, Any] | None:
    """What a reply shows of the message it answers: `{"seq", "author", "snippet", "deleted"}`, or
    None. The original is read as it is now: deleted since, it says so and shows no text."""
    if message.reply_to_id is None:
        return None
    original = message.reply_to  # loaded with the page (selectors.attach_replies) or by the service
    return {
        "seq": original.seq,
        "author": user_json(original.author) if original.author_id else DELETED_USER,
        "snippet": "" if original.deleted else snippet(original.body),
        "deleted": original.deleted,
    }


def message_json(message: Message) -> dict[str, Any]:
    """A message as the history endpoint and every socket frame carry it.

    Its files come from `attachment_list`, loaded for a whole page by
    `messaging.attachments.load_for_messages` (one query); a lone message without it loads its own.
    Its `reactions` are one reader's (`mine`), from `reaction_list` set by
    `selectors.attach_reactions`; a message published to every member carries none here (the
    socket fills in its reader's: see `edited_for`).
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
        "html": "" if message.deleted else message.html,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.deleted,
        "reply_to": reply_json(message),
        "attachments": attachments,
        "reactions": [] if message.deleted else getattr(message, "reaction_list", []),
    }


def reactions_json(reactors: dict[str, list[int]], viewer_id: int | None) -> list[dict[str, Any]]:
    """`reaction.changed`'s `reactions` for one reader: `[{"emoji", "count", "users": [at most
    REACTION_USERS_SHOWN ids, oldest first], "mine"}]` from {emoji: [every user id]}."""
    shown = settings.REACTION_USERS_SHOWN
    return [
        {"emoji": emoji, "count": len(users), "users": users[:shown], "mine": viewer_id in users}
        for emoji, users in reactors.items()
    ]


def conversation_title(conversation: Conversation, viewer) -> str:
    """What a user calls a conversation: "group / topic", or the other person's name."""
    if conversation.is_direct:
        other = conversation.user_high if conversation.user_low_id == viewer.pk else conversation.user_low
        return other.name if other else "deleted user"
    return f"{conversation.group.name} / {conversation.name}"


def conversation_json(conversation: Conversation, viewer, *, unread: int = 0) -> dict[str, Any]:
    """The `conversation.added` payload. `other_user_id` and `other_user`: the other person of a direct
    conversation (the row's avatar: their picture or initial, as messaging.markup draws it), null for a group's."""
    group = conversation.group
    other_user_id = other_user = None
    if conversation.is_direct:
        low = conversation.user_low_id == viewer.pk
        other_user_id = conversation.user_high_id if low else conversation.user_low_id
        if other_user_id is not None:
            other_user = user_json(conversation.user_high if low else conversation.user_low)
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "name": conversation_title(conversation, viewer),
        "group": {"id": group.pk, "name": group.name} if group else None,
        "last_seq": conversation.last_seq,
        "unread": unread,
        "other_user_id": other_user_id,
        "other_user": other_user,
    }


def edited_for(frame: dict[str, Any], viewer_id: int) -> dict[str, Any]:
    """The `message.edited` a reader gets: the message's `reactions` with their own `mine`; what
    only the sockets read (`reactors`, `mentions_changed`) dropped."""
    frame.pop("mentions_changed", None)
    reactors = frame.pop("reactors", None) or {}
    frame["message"]["reactions"] = reactions_json(reactors, viewer_id)
    return frame


def reaction_changed_for(frame: dict[str, Any], viewer_id: int) -> dict[str, Any]:
    """The `reaction.changed` a reader gets: `mine` set for them, the full `reactors` dropped."""
    reactors = frame.pop("reactors", None) or {}
    frame["reactions"] = reactions_json(reactors, viewer_id)
    return frame
