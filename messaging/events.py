"""Publishing to open sockets, after the database commit.

Channel-layer groups:
- ``conv.<id>``: every socket that may see conversation <id> (joined on connect,
  and when the user gains the conversation); one publish per message, however
  many members.
- ``user.<id>``: every socket of one user (sidebar events, access changes).
- ``session.<key>``: the sockets of one login session (logout).

Frames are encoded to JSON once here, not once per recipient. Publishing never
raises: the database is the source of truth and clients catch up with `sync`
when the layer drops or is down. The generic part (user and session groups,
publishing after commit, the `Outbox`, closing sockets) is chatsite.sockets, so
that apps below this one can close sockets too.
"""

import logging
import time
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer

from chatsite.outage import log_outage
from chatsite.sockets import Outbox, after_commit, encode, user_group
from messaging import protocol

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    return f"conv.{conversation_id}"


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
    after_commit(
        conversation_group(conversation_id), conversation_event(conversation_id, frame, author_id=author_id), outbox
    )


def to_users(user_ids: Iterable[int], frame: dict[str, Any], *, outbox: Outbox | None = None) -> None:
    """A frame for every socket of each user."""
    text = encode(frame)
    for user_id in set(user_ids):
        after_commit(user_group(user_id), {"type": "user.frame", "frame": text}, outbox)


def conversation_added(user_id: int, conversation_frame: dict[str, Any]) -> None:
    """The user gained a conversation: sockets join its group, then forward the frame."""
    after_commit(
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
        after_commit(user_group(user_id), {"type": "access.removed", "conversations": conversation_ids}, None)


def user_updated(user: dict[str, Any], conversation_ids: Iterable[int]) -> None:
    """A user's profile changed: `user.updated` for everyone sharing a conversation with them, and their own tabs.

    One publish per conversation (as for presence) plus one to the user's own sockets; a socket
    that hears it through several shared conversations forwards the first copy only (`version`).
    """
    version = time.time_ns()
    text = encode({"type": protocol.USER_UPDATED, "user": user})
    event = {"type": "user.updated", "user": user["id"], "version": version, "frame": text, "conversation": None}
    after_commit(user_group(user["id"]), event, None)
    for conversation_id in conversation_ids:
        after_commit(conversation_group(conversation_id), {**event, "conversation": conversation_id}, None)


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
