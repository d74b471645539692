"""`LeanConsumer`: the connection loop the chat socket runs on, in place of Channels' own.

Channels' `AsyncConsumer.__call__` reads the socket and the channel layer with
`await_many_dispatch`, which makes a task per source for every event and waits on
them with `asyncio.wait`; it stops the socket when the layer is unreachable; and
it runs no clean-up when a handler raises. This loop keeps Channels' model (one
handler at a time, each source in order, `websocket_*` and layer event handlers
named as Channels names them) and changes three things:

- Layer events are read by one long-lived task into a bounded backlog, and a
  second task delivers them. A client that stops reading blocks delivery, not
  the reading: once the backlog holds WS_MAX_PENDING_EVENTS events or
  WS_MAX_PENDING_BYTES of frames, the socket is closed with CLOSE_TOO_SLOW (the
  client reconnects and `sync`s, so nothing is lost) instead of growing without
  bound.
- A channel layer that is down does not stop the socket: it still stores and
  acknowledges what its client sends, and answers `sync`; it just gets no live
  events until the layer is back.
- `cleanup()` runs however the socket ends: disconnect, server close, a fault.
- A send that finds the client gone (the OSError ASGI servers raise) ends
  sending quietly; the disconnect that follows ends the socket.

With the project's Redis pub/sub layer (production: `chatsite.layers`, `hand_over`), the
layer's own receiving task hands each event straight to the socket's backlog, decoded once
per process however many sockets it is for: no per-socket queue, reader task or decode; the
socket ends its channel with the layer's `release`. Other layers are read by the reader task.

Subclasses implement `dispatch`-able handlers and `cleanup()`. Layer events may be
shared by every socket of the process they are for: handlers read them, never change them.
"""

import asyncio
import contextlib
import logging

from channels.consumer import AsyncConsumer
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from messaging import protocol
from messaging.realtime.workers import log_outage

logger = logging.getLogger("messaging.realtime")

# Backlog length from which the reader yields to the delivery task after each event.
YIELD_AT = 32
# How long a close frame may take to go out to a client that does not read.
CLOSE_TIMEOUT = 5.0
# Handed-over channels being released (unsubscribed) after their socket ended: held until done.
_releasing: set[asyncio.Future] = set()


def handler_name(kind: str) -> str:
    """Channels' rule: `websocket.receive` -> `websocket_receive`, `conversation.frame` -> `conversation_frame`."""
    name = _HANDLER_NAMES.get(kind)
    if name is None:
        name = kind.replace(".", "_")
        if len(_HANDLER_NAMES) < 256:  # kinds come from the app's own code: a few dozen at most
            _HANDLER_NAMES[kind] = name
    return name


_HANDLER_NAMES: dict[str, str] = {}  # looked up for every event of every socket


class LeanConsumer(AsyncConsumer):
    """See the module docstring."""

    closed = False
    client_gone = False
    _backlog: list | None = None
    _wake = None  # wakes the delivery task

    async def __call__(self, scope, receive, send):
        self.scope = scope

        async def send_while_connected(message: dict) -> None:
            # Once the client has gone, ASGI servers raise an OSError from `send` (uvicorn's
            # ClientDisconnected); daphne drops the message. Either way the socket is over: its
            # `websocket.disconnect` comes next and ends it, so a send in flight is not a fault.
            if self.client_gone:
                return
            try:
                await send(message)
            except OSError:
                self.client_gone = True
                self.closed = True

        self.base_send = send_while_connected
        self._asgi_send = send
        self.client_gone = False
        self.closed = False
        self.too_slow = False
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = None
        if self.channel_layer is not None:
            try:
                self.channel_name = await self.channel_layer.new_channel()
            except Exception:
                log_outage("channel layer unreachable: socket runs without live events")
                self.channel_layer = None
        try:
            with contextlib.suppress(StopConsumer):
                await self._serve(receive)
        finally:
            with contextlib.suppress(Exception):  # logged where it can fail; never mask the way out
                await self.cleanup()
        if self.too_slow:
            with contextlib.suppress(Exception, asyncio.TimeoutError):
                await asyncio.wait_for(
                    self.base_send({"type": "websocket.close", "code": protocol.CLOSE_TOO_SLOW}), CLOSE_TIMEOUT
                )

    async def send_text(self, text: str) -> None:
        """A text frame, unless the socket is closed; `base_send`'s rule in one step (two frames per
        recipient of every message come through here)."""
        if self.closed:
            return
        try:
            await self._asgi_send({"type": "websocket.send", "text": text})
        except OSError:
            self.client_gone = True
            self.closed = True

    def handshake_answered(self) -> None:
        """The first frame after `accept` has gone: the handshake gate (chatsite.handshakes) has ended this
        socket's turn and only passes frames on from now, so frames go to the server's `send` directly."""
        self._asgi_send = getattr(self._asgi_send, "after_turn", self._asgi_send)

    async def cleanup(self) -> None:
        """Leave groups, release what the socket held. Must be safe to call more than once."""

    def inject(self, message: dict) -> None:
        """Queue an event of the process's own (the heartbeat's) for this socket, as if from the layer:
        it is handled in turn with the others, never concurrently with a handler."""
        if self.closed or self._backlog is None:
            return
        self._backlog.append(message)
        self._wake()

    async def _serve(self, receive) -> None:
        """Dispatch the socket's messages in this coroutine, the layer's in a delivery task; one at a time."""
        lock = asyncio.Lock()
        main = asyncio.current_task()
        # A list, not a deque: an idle socket's backlog is empty, and an empty deque holds a block of
        # 64 slots (0.6 KiB per socket); popping the front of a list bounded by WS_MAX_PENDING_EVENTS is cheap.
        backlog: list = []
        size = 0  # bytes of frames in the backlog
        max_events, max_bytes = settings.WS_MAX_PENDING_EVENTS, settings.WS_MAX_PENDING_BYTES
        idle: asyncio.Future | None = None  # what the delivery task waits on while the backlog is empty
        delivered = 0  # events the delivery task has handled: its progress
        loop = asyncio.get_running_loop()

        def wake() -> None:
            if idle is not None and not idle.done():
                idle.set_result(None)

        self._backlog, self._wake = backlog, wake

        def overflow() -> None:
            self.too_slow = True
            self.closed = True  # deliver nothing more
            backlog.clear()
            main.cancel()

        def over_bounds() -> bool:
            return len(backlog) > max_events or size > max_bytes

        def take(message: dict) -> bool:
            """Queue one layer event; False once the backlog is past its bounds (the socket is closing).

            The bounds are for what waits on the client: events that arrive while an idle delivery task
            is woken but has not run yet (a burst handed over in one go) have waited on nobody; if they
            are past the bounds, `check_progress` judges them once delivery has had its turn."""
            nonlocal size
            if self.too_slow:
                return False
            backlog.append(message)
            size += len(message.get("frame") or "")
            if idle is not None and idle.done():
                return True  # delivery was idle and has not had its turn yet: nothing waits on the client
            wake()
            if len(backlog) > max_events or size > max_bytes:
                overflow()
                return False
            return True

        def check_progress(mark: int) -> None:
            """After a burst past the bounds: once per loop turn while it lasts, close the socket if delivery
            handled no event in that turn (stuck in a send: the client does not read)."""
            if self.too_slow or not over_bounds():
                return
            if delivered == mark:
                overflow()
                return
            loop.call_soon(check_progress, delivered)

        async def read_layer() -> None:
            while True:
                try:
                    message = await self.channel_layer.receive(self.channel_name)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log_outage("channel layer receive failed")
                    await asyncio.sleep(1.0)
                    continue
                if not take(message):
                    return
                if len(backlog) >= YIELD_AT:
                    # A burst the layer hands over at once: let delivery take its turn, so only a
                    # client that does not read (delivery stuck in a send) can fill the backlog.
                    await asyncio.sleep(0)

        async def deliver() -> None:
            # Everything queued is delivered per wake-up; the lock is taken per event, so the
            # socket's own frames are answered between events, not after a whole burst.
            nonlocal size, idle, delivered
            while True:
                if not backlog:
                    idle = loop.create_future()
                    await idle
                    idle = None
                    if len(backlog) > max_events or size > max_bytes:
                        loop.call_soon(check_progress, delivered)
                    continue
                message = backlog.pop(0)
                size -= len(message.get("frame") or "")
                await lock.acquire()  # `async with`, without its two extra calls per event
                try:
                    await self.deliver_event(message)
                finally:
                    lock.release()
                delivered += 1

        tasks = [asyncio.ensure_future(deliver())]
        handed_over = False
        if self.channel_layer is not None:
            hand_over = getattr(self.channel_layer, "hand_over", None)
            handed_over = hand_over is not None and hand_over(self.channel_name, take)
            if not handed_over:
                tasks.append(asyncio.ensure_future(read_layer()))
        try:
            while True:
                message = await receive()
                async with lock:
                    await self.dispatch(message)
        except asyncio.CancelledError:
            if self.too_slow:
                return  # overflow() cancelled us: close with CLOSE_TOO_SLOW
            raise
        finally:
            self._backlog = None
            for task in tasks:
                task.cancel()
            if handed_over:  # in the background, as a cancelled reader's `receive` would unsubscribe
                release = asyncio.ensure_future(self.channel_layer.release(self.channel_name))
                _releasing.add(release)
                release.add_done_callback(_releasing.discard)

    async def deliver_event(self, message: dict) -> None:
        """One channel-layer event. A fault in one event is logged and the socket goes on."""
        try:
            handler = self.handler_for(message["type"])
            if handler is not None:
                await handler(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("socket event %s failed", message.get("type"))

    async def dispatch(self, message: dict) -> None:
        handler = self.handler_for(message["type"])
        if handler is not None:
            await handler(message)

    def handler_for(self, kind: str):
        """The handler named after a message's type; none once closed but `websocket.*`."""
        if self.closed and not kind.startswith("websocket."):
            return None
        handler = getattr(self, handler_name(kind), None)
        if handler is None:
            # From a newer process during a rolling deploy, say: not this socket's fault.
            log_outage(f"socket event without a handler ignored: {kind}", exc_info=False)
        return handler
