"""Publishing to open sockets, after the database commit.

Channel-layer groups:
- ``conv.<id>``: every socket that may see conversation <id> (joined on connect,
  and when the user gains the conversation); one publish per message, however
  many members.
- ``user.<id>``: every socket of one user (sidebar events, access changes).
- ``session.<key>``: the sockets of one login session (logout).

Frames are encoded to JSON once here, not once per recipient. Publishing never
raises: the database is the source of truth and clients catch up with `sync`
when the layer drops or is down.
"""

import json
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from chatsite.outage import log_outage
from messaging import protocol

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    return f"session.{session_key}"


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class Outbox:
    """The events of one write, kept for its caller to publish from the event loop after the commit.

    The socket runs a service in a worker thread and passes an outbox; each event the
    service publishes is added when (and only if) its transaction commits, and the socket
    then sends them from the event loop, without a blocking hop back per event. Writes
    made without an outbox (views, commands) publish from their own thread after commit.
    """

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def publish(self) -> None:
        """Send what was committed, in order. Never raises."""
        events, self.events = self.events, []
        if not events:
            return
        layer = get_channel_layer()
        if layer is None:
            return
        for group, event in events:
            try:
                await layer.group_send(group, event)
            except Exception:
                log_outage(logger, "channel layer publish failed; clients will catch up with sync")
                return


def _send(group: str, event: dict[str, Any]) -> None:
    """Publish now, from a thread without an event loop (a view, a command). Never raises."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # the layer being down must not fail the write that was committed
        log_outage(logger, "channel layer publish failed; clients will catch up with sync")


def _after_commit(group: str, event: dict[str, Any], outbox: Outbox | None) -> None:
    if outbox is None:
        transaction.on_commit(lambda: _send(group, event))
    else:
        transaction.on_commit(lambda: outbox.events.append((group, event)))


def conversation_event(conversation_id: int, frame: dict[str, Any], *, author_id: int | None = None) -> dict:
    """The layer event carrying `frame` to a conversation's sockets, encoded once.

    `kind`, `author` and `seq` let sockets filter (not to the author, not after
    access was lost) and count unread without decoding the frame.
    """
    return {
        "type": "conversation.frame",
        "conversation": conversation_id,
        "author": author_id,
        "kind": frame["type"],
        "seq": (frame.get("message") or {}).get("seq"),
        "frame": encode(frame),
    }


def to_conversation(
    conversation_id: int, frame: dict[str, Any], *, author_id: int | None = None, outbox: Outbox | None = None
) -> None:
    """A frame for every socket that may see the conversation (`message.*`, `typing`, `read`)."""
    _after_commit(
        conversation_group(conversation_id), conversation_event(conversation_id, frame, author_id=author_id), outbox
    )


def to_users(user_ids: Iterable[int], frame: dict[str, Any], *, outbox: Outbox | None = None) -> None:
    """A frame for every socket of each user."""
    text = encode(frame)
    for user_id in set(user_ids):
        _after_commit(user_group(user_id), {"type": "user.frame", "frame": text}, outbox)


def conversation_added(user_id: int, conversation_frame: dict[str, Any]) -> None:
    """The user gained a conversation: sockets join its group, then forward the frame."""
    _after_commit(
        user_group(user_id),
        {
            "type": "access.added",
            "conversation": conversation_frame["id"],
            "frame": encode({"type": protocol.CONVERSATION_ADDED, "conversation": conversation_frame}),
        },
        None,
    )


def conversations_removed(user_ids: Iterable[int], conversation_ids: Iterable[int]) -> None:
    """The users lost these conversations: sockets stop delivering them at once."""
    conversation_ids = list(conversation_ids)
    for user_id in set(user_ids):
        _after_commit(user_group(user_id), {"type": "access.removed", "conversations": conversation_ids}, None)


def close_user_sockets(user_id: int, *, except_session: str | None = None) -> None:
    """End every socket of a user (deactivation), or all but one session's (password change)."""
    _after_commit(user_group(user_id), {"type": "sockets.close", "except_session": except_session}, None)


def close_session_sockets(session_key: str) -> None:
    """End the sockets of one login session (logout); the user's other devices stay."""
    _send(session_group(session_key), {"type": "sockets.close", "except_session": None})


async def presence_changed(user: dict[str, Any], conversation_ids: Iterable[int], *, online: bool) -> None:
    """A user came online or went offline: tell every conversation they are in.

    Called from the socket (already async, outside any transaction). One publish
    per conversation; a socket sharing several conversations with the user
    forwards only the first copy of each change.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    text = encode({"type": protocol.PRESENCE, "user": user, "online": online})
    for conversation_id in conversation_ids:
        event = {
            "type": "conversation.frame",
            "conversation": conversation_id,
            "author": user["id"],
            "kind": protocol.PRESENCE,
            "seq": None,
            "online": online,
            "frame": text,
        }
        try:
            await layer.group_send(conversation_group(conversation_id), event)
        except Exception:
            log_outage(logger, "channel layer presence publish failed")
            return
