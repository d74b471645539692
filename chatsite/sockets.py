"""Publishing to the open sockets of users and sessions, after the database commit.

The bottom layer of real-time delivery: channel-layer group names for a user's
sockets (`user.<id>`) and a login session's (`session.<key>`), publishing after
commit (directly, or through an explicit `Outbox` the socket publishes from its
event loop), and closing sockets. Any app may use it; what travels on
conversations (`conv.<id>`) is messaging.events, built on this.
"""

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from chatsite.outage import log_outage

logger = logging.getLogger(__name__)


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


def after_commit(group: str, event: dict[str, Any], outbox: Outbox | None) -> None:
    if outbox is None:
        transaction.on_commit(lambda: _send(group, event))
    else:
        transaction.on_commit(lambda: outbox.events.append((group, event)))


def close_user_sockets(user_id: int, *, except_session: str | None = None) -> None:
    """End every socket of a user (deactivation), or all but one session's (password change)."""
    after_commit(user_group(user_id), {"type": "sockets.close", "except_session": except_session}, None)


def close_session_sockets(session_key: str) -> None:
    """End the sockets of one login session (logout); the user's other devices stay."""
    _send(session_group(session_key), {"type": "sockets.close", "except_session": None})
