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
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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


# Set by `deferred()`: publishes are collected here instead of sent from the worker thread.
_deferred: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar("deferred_publishes", default=None)


def _send_now(group: str, event: dict[str, Any]) -> None:
    pending = _deferred.get()
    if pending is not None:
        pending.append((group, event))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # the layer being down must not fail the write that was committed
        logger.warning("channel layer publish to %s failed; clients will catch up with sync", group, exc_info=True)


@contextmanager
def deferred():
    """Collect the publishes of the writes made inside, for `publish` to send from the event loop.

    The socket runs its writes in a worker thread; publishing from there means a
    blocking hop back to the event loop per event. Set this in the async caller:
    the worker thread runs in a copy of its context and appends to the same list.
    """
    pending: list[tuple[str, dict[str, Any]]] = []
    token = _deferred.set(pending)
    try:
        yield pending
    finally:
        _deferred.reset(token)


async def publish(pending: list[tuple[str, dict[str, Any]]]) -> None:
    """Send what `deferred` collected (already committed), in order. Never raises."""
    if not pending:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in pending:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.warning("channel layer publish to %s failed; clients will catch up with sync", group, exc_info=True)
            return


def _send_after_commit(group: str, event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: _send_now(group, event))


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


def to_conversation(conversation_id: int, frame: dict[str, Any], *, author_id: int | None = None) -> None:
    """A frame for every socket that may see the conversation (`message.*`, `typing`, `read`)."""
    _send_after_commit(
        conversation_group(conversation_id), conversation_event(conversation_id, frame, author_id=author_id)
    )


def to_users(user_ids: Iterable[int], frame: dict[str, Any]) -> None:
    """A frame for every socket of each user."""
    text = encode(frame)
    for user_id in set(user_ids):
        _send_after_commit(user_group(user_id), {"type": "user.frame", "frame": text})


def conversation_added(user_id: int, conversation_frame: dict[str, Any]) -> None:
    """The user gained a conversation: sockets join its group, then forward the frame."""
    _send_after_commit(
        user_group(user_id),
        {
            "type": "access.added",
            "conversation": conversation_frame["id"],
            "frame": encode({"type": protocol.CONVERSATION_ADDED, "conversation": conversation_frame}),
        },
    )


def conversations_removed(user_ids: Iterable[int], conversation_ids: Iterable[int]) -> None:
    """The users lost these conversations: sockets stop delivering them at once."""
    conversation_ids = list(conversation_ids)
    for user_id in set(user_ids):
        _send_after_commit(user_group(user_id), {"type": "access.removed", "conversations": conversation_ids})


def close_user_sockets(user_id: int, *, except_session: str | None = None) -> None:
    """End every socket of a user (deactivation), or all but one session's (password change)."""
    _send_after_commit(user_group(user_id), {"type": "sockets.close", "except_session": except_session})


def close_session_sockets(session_key: str) -> None:
    """End the sockets of one login session (logout); the user's other devices stay."""
    _send_now(session_group(session_key), {"type": "sockets.close", "except_session": None})


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
            logger.warning("channel layer presence publish failed", exc_info=True)
            return
