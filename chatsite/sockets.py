"""Publishing to the open sockets of users and sessions, after the database commit.

The bottom layer of real-time delivery: channel-layer group names for a user's
sockets (`user.<id>`) and a login session's (`session.<key>`), publishing after
commit (directly, or through an explicit `Outbox` the socket publishes from its
event loop), and closing sockets. Any app may use it; what travels on
conversations (`conv.<id>`) is messaging.events, built on this.
"""

import asyncio
import contextlib
import json
import logging
import threading
import weakref
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
    """The events of one socket write, published from the event loop in the order they were committed.

    The socket runs a service in a worker thread and passes an outbox; each event the service
    publishes is handed to the loop's `Publisher` when (and only if) its transaction commits, and
    the socket awaits `publish()` (their sending) before it answers. Writes made without an outbox
    (views, commands) publish from their own thread after commit.

    Why one publisher per loop rather than each socket sending its own: two sends to one
    conversation that run at once in two worker threads commit as seq N and N + 1, but their threads
    may hand back in the other order; the worker hands its events over under `commit_order` (the
    lock it took before the seq), so the publisher gets them in commit order and sends each group's
    events one after the other. Frames from one process then reach every socket in seq order.
    """

    __slots__ = ("_loop", "_sent", "waiting")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._sent: asyncio.Event | None = None
        self.waiting = 0  # events handed over and not yet sent (changed on the loop only)

    def put(self, group: str, event: dict[str, Any]) -> None:
        """From the worker thread, once committed: hand the event to the loop's publisher, in call order."""
        self._loop.call_soon_threadsafe(_publisher(self._loop).put, group, event, self)

    def sent_one(self) -> None:
        self.waiting -= 1
        if not self.waiting and self._sent is not None:
            self._sent.set()

    async def publish(self) -> None:
        """Wait until what was committed has been sent (or found the layer down). Never raises."""
        if self.waiting:
            self._sent = asyncio.Event()
            await self._sent.wait()


class Publisher:
    """Sends the committed events of one event loop's socket writes to the channel layer: each group's
    in the order they were handed over, different groups' at the same time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: list[tuple[str, dict[str, Any], Outbox]] = []
        self._draining: asyncio.Task | None = None

    def put(self, group: str, event: dict[str, Any], outbox: Outbox) -> None:
        outbox.waiting += 1
        self._queue.append((group, event, outbox))
        if self._draining is None:
            self._draining = self._loop.create_task(self._drain())

    async def _drain(self) -> None:
        """Send what is queued, batch after batch, until nothing is left (then the next `put` starts again)."""
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                by_group: dict[str, list[tuple[dict[str, Any], Outbox]]] = {}
                for group, event, outbox in batch:
                    by_group.setdefault(group, []).append((event, outbox))
                await asyncio.gather(*(self._send_in_order(group, events) for group, events in by_group.items()))
        finally:
            self._draining = None

    async def _send_in_order(self, group: str, events: list[tuple[dict[str, Any], Outbox]]) -> None:
        layer = get_channel_layer()
        for event, outbox in events:
            try:
                if layer is not None:
                    await layer.group_send(group, event)
            except Exception:
                log_outage(logger, "channel layer publish failed; clients will catch up with sync")
            finally:
                outbox.sent_one()


_publishers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _publisher(loop: asyncio.AbstractEventLoop) -> Publisher:
    """The loop's publisher (on the loop), started on first use."""
    publisher = _publishers.get(loop)
    if publisher is None:
        publisher = _publishers[loop] = Publisher(loop)
    return publisher


_ORDER_LOCKS = tuple(threading.Lock() for _ in range(256))


def commit_order(key: int):
    """Held by a write from taking its place in an order (a conversation's seq) until it has handed its
    events over (`Outbox.put`, or the thread's own send), so writes with the same `key` in this process
    publish in the order they committed. Inside a caller's transaction (which commits later, and may
    take the same lock again) there is no order to keep: nothing is held."""
    if transaction.get_connection().in_atomic_block:
        return contextlib.nullcontext()
    return _ORDER_LOCKS[key % len(_ORDER_LOCKS)]


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
        transaction.on_commit(lambda: outbox.put(group, event))


def close_user_sockets(user_id: int, *, except_session: str | None = None) -> None:
    """End every socket of a user (deactivation), or all but one session's (password change)."""
    after_commit(user_group(user_id), {"type": "sockets.close", "except_session": except_session}, None)


def close_session_sockets(session_key: str) -> None:
    """End the sockets of one login session (logout); the user's other devices stay."""
    _send(session_group(session_key), {"type": "sockets.close", "except_session": None})
