"""The chat socket at /ws/: one per browser tab, carrying every conversation of its user.

A thin adapter (docs/protocol.md, "WebSocket"): a client frame is validated,
handed to one service or selector in a worker thread, and answered; domain
errors become `error` frames. Every service call runs the permission check
(`access_conversation`) again, so a frame is judged by the database as it is
now, never by what was true on connect.

Events from the channel layer arrive already encoded and are forwarded as they
are, after checking their conversation against the set this socket may
deliver. That set is loaded on connect and changed only by access events on
the user's group, so losing a conversation takes effect with the very next
event, without a database query per delivered frame.

Threads: database work runs on a small dedicated pool (WS_DB_THREADS workers,
so at most that many database connections per process, each kept open under
CONN_MAX_AGE) instead of asgiref's single shared thread, where one slow query
would hold up every socket of the process. `database_sync_to_async` drops stale
connections before and after each call in the worker that runs it, so layer
events (which touch no database) skip Channels' per-event
`aclose_old_connections` hop to the shared thread.
"""

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from asgiref.sync import SyncToAsync
from channels.consumer import AsyncConsumer, get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from chatsite.errors import DomainError, Invalid, RateLimited
from messaging import events, protocol, realtime_limits, realtime_presence, realtime_selectors, selectors, services
from messaging.serializers import message_json, user_json

logger = logging.getLogger(__name__)

db_executor = ThreadPoolExecutor(max_workers=settings.WS_DB_THREADS, thread_name_prefix="ws-db")

# Frames relayed to the other members only, never back to the user's own sockets.
TO_OTHERS_ONLY = frozenset({protocol.TYPING, protocol.READ, protocol.PRESENCE})
MAX_ID = 2**63 - 1  # the database's bigint; larger numbers cannot name anything


_warned_at: dict[str, float] = {}


def log_outage(what: str) -> None:
    """Log an outage once a minute per kind, not once per socket: Redis down must not flood the log."""
    now = time.monotonic()
    if now - _warned_at.get(what, -60.0) < 60.0:
        return
    _warned_at[what] = now
    logger.warning(what, exc_info=True)


def in_db_thread(func):
    """Run ORM work on the socket worker pool, with stale connections closed around it."""
    return database_sync_to_async(func, thread_sensitive=False, executor=db_executor)


def in_thread(func):
    """Run other blocking work (Redis) on the same pool."""
    return SyncToAsync(func, thread_sensitive=False, executor=db_executor)


async def write(func, *args, **kwargs):
    """Run a service (a write) in a worker thread, then publish its events from the event loop."""
    with events.deferred() as pending:
        try:
            return await in_db_thread(func)(*args, **kwargs)
        finally:
            await events.publish(pending)  # what was committed is published, even if the call failed after


def _whole_number(frame: dict, name: str) -> int:
    value = frame.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise Invalid(f"“{name}” must be a whole number.", code=protocol.INVALID)
    return value


def _cursors(frame: dict) -> dict[int, int]:
    raw = frame.get("cursors")
    if not isinstance(raw, dict):
        raise Invalid("“cursors” must be an object of conversation id → last seq seen.", code=protocol.INVALID)
    cursors = {}
    for key, seq in raw.items():
        try:
            conversation_id = int(key)
        except ValueError:
            raise Invalid("Cursor keys must be conversation ids.", code=protocol.INVALID) from None
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_ID:
            raise Invalid("Cursor values must be whole numbers.", code=protocol.INVALID)
        if 0 < conversation_id <= MAX_ID:
            cursors[conversation_id] = seq
    return cursors


def _too_large(text: str) -> bool:
    limit = settings.WS_MAX_FRAME_BYTES
    if len(text) > limit:
        return True
    # UTF-8 takes at most 4 bytes a character: only measure when it could matter.
    return len(text) * 4 > limit and len(text.encode()) > limit


# Work done in a worker thread: one service or selector call, serialized there too.


def _send_message(actor, conversation_id: int, body, client_id) -> dict[str, Any]:
    message, _created = services.message_send(
        actor=actor, conversation_id=conversation_id, body=body, client_id=client_id
    )
    return message_json(message)


def _sync_page(user, cursors: dict[int, int]) -> tuple[list[str], bool]:
    messages, complete = realtime_selectors.sync_messages(user, cursors, settings.SYNC_MAX_MESSAGES)
    return [events.encode({"type": protocol.MESSAGE_NEW, "message": message_json(m)}) for m in messages], complete


def _open_presence(user, socket_id: str) -> tuple[bool, list[dict]]:
    """Count this socket in; return whether the user just came online, and which co-members are.

    One query, then one Redis round trip for both.
    """
    members = realtime_selectors.co_members(user)
    came_online, online = realtime_presence.store().opened_among(user.pk, socket_id, [m["id"] for m in members])
    return came_online, [member for member in members if member["id"] in online]


class Heartbeat:
    """Keeps the process's open sockets counted as online, and now and then checks their accounts.

    One task for the process, not one per socket: every WS_PRESENCE_TTL / 3 it
    refreshes every registered socket's presence entry in one Redis pipeline, and
    every WS_ACCOUNT_RECHECK it asks the database in one query which of their users
    are still active, closing the sockets of the others. A safety net for a lost
    `sockets.close` event on deactivation (the channel layer does not guarantee
    delivery). The task ends when no socket is left, and starts with the next one.
    """

    def __init__(self) -> None:
        self.sockets: dict[str, ChatConsumer] = {}
        self.task: asyncio.Task | None = None
        self.refreshing: asyncio.Future | None = None  # the refresh in flight
        self.refreshing_ids: frozenset[str] = frozenset()
        self.recheck_at = 0.0

    def add(self, consumer: "ChatConsumer") -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.sockets = {}  # any left belong to a loop that has gone (tests run one loop each)
            self.recheck_at = time.monotonic() + settings.WS_ACCOUNT_RECHECK * random.uniform(0.5, 1.0)
            self.task = loop.create_task(self.run())
        self.sockets[consumer.socket_id] = consumer

    async def remove(self, consumer: "ChatConsumer") -> None:
        """Forget the socket; first let a refresh that includes it finish, or that refresh could
        re-add its presence entry after the socket has removed it."""
        if self.sockets.pop(consumer.socket_id, None) is None:
            return
        if self.refreshing is not None and consumer.socket_id in self.refreshing_ids:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.refreshing)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(settings.WS_PRESENCE_TTL / 3)
            if not self.sockets:
                self.task = None  # no await since the check: the next socket starts a new task
                return
            await self.refresh()
            if time.monotonic() >= self.recheck_at:
                self.recheck_at = time.monotonic() + settings.WS_ACCOUNT_RECHECK
                await self.recheck()

    async def refresh(self) -> None:
        sockets = [(consumer.user_id, socket_id) for socket_id, consumer in self.sockets.items()]
        self.refreshing_ids = frozenset(socket_id for _user, socket_id in sockets)
        self.refreshing = asyncio.ensure_future(in_thread(realtime_presence.store().refresh_many)(sockets))
        try:
            await asyncio.shield(self.refreshing)
        except Exception:
            log_outage("presence refresh failed")
        finally:
            self.refreshing, self.refreshing_ids = None, frozenset()

    async def recheck(self) -> None:
        user_ids = {consumer.user_id for consumer in self.sockets.values()}
        try:
            active = await in_db_thread(realtime_selectors.active_user_ids)(user_ids)
        except Exception:
            log_outage("account re-check failed")
            return
        for consumer in [c for c in self.sockets.values() if c.user_id not in active]:
            await consumer.close(protocol.CLOSE_SESSION_ENDED)


heartbeat = Heartbeat()


class ChatConsumer(AsyncConsumer):
    """One browser tab's socket. See the module docstring and docs/protocol.md."""

    # Client frame type → handler method, for the class rather than per socket.
    HANDLERS = {
        protocol.MESSAGE_SEND: "on_message_send",
        protocol.MESSAGE_EDIT: "on_message_edit",
        protocol.MESSAGE_DELETE: "on_message_delete",
        protocol.TYPING: "on_typing",
        protocol.READ: "on_read",
        protocol.SYNC: "on_sync",
    }

    async def __call__(self, scope, receive, send):
        """Channels' loop, except that a channel layer that is down does not kill the socket.

        Without the layer the socket still stores and acknowledges what its
        client sends, and answers `sync`; it just gets no live events.
        """
        self.scope = scope
        self.base_send = send
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        layer_receive = None
        if self.channel_layer is not None:
            try:
                self.channel_name = await self.channel_layer.new_channel()
            except Exception:
                log_outage("channel layer unreachable: socket runs without live events")
                self.channel_layer = None
            else:
                layer_receive = partial(self.channel_layer.receive, self.channel_name)
        with contextlib.suppress(StopConsumer):
            await self._serve(receive, layer_receive)

    async def _serve(self, receive, layer_receive) -> None:
        """Dispatch the socket's events and the layer's, one handler at a time, each source in order.

        What Channels' await_many_dispatch does, lighter: that made a task per
        source for every event and waited on them with asyncio.wait. Here this
        coroutine reads the socket, one long-lived task reads the layer, and a
        lock keeps their handlers from overlapping. A handler's error ends the
        socket either way, as there.
        """
        if layer_receive is None:
            while True:
                await self.dispatch(await receive())
        lock = asyncio.Lock()
        main = asyncio.current_task()
        failed: list[BaseException] = []

        async def read_layer() -> None:
            try:
                while True:
                    message = await layer_receive()
                    async with lock:
                        await self.dispatch(message)
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # handed to the socket's coroutine, which ends
                failed.append(error)
                main.cancel()

        reader = asyncio.ensure_future(read_layer())
        try:
            while True:
                message = await receive()
                async with lock:
                    await self.dispatch(message)
        except asyncio.CancelledError:
            if failed:
                raise failed[0] from None
            raise
        finally:
            reader.cancel()

    async def dispatch(self, message):
        """Route to the handler; no connection clean-up hop (see the module docstring)."""
        if getattr(self, "closed", False) and not message["type"].startswith("websocket."):
            return  # closed by the server: nothing more is delivered
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # Connection life cycle -------------------------------------------------------------------

    async def websocket_connect(self, message):
        self.accepted = self.closed = self.cleaned = False
        self.groups_joined: set[str] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.base_send({"type": "websocket.close"})  # before accept: the handshake is refused
            return
        self.user = user
        self.user_id = user.pk
        self.session_key = self.scope["session"].session_key
        self.socket_id = uuid.uuid4().hex
        self.conversations: set[int] = set()
        self.last_seq: dict[int, int] = {}
        self.unread: dict[int, int] = {}
        self.presence_seen: dict[int, bool] = {}
        self.frames = realtime_limits.frame_bucket()
        self.abuse = realtime_limits.AbuseMeter()

        # Access events first, so none is missed between reading the conversations and
        # joining them; then join every conversation before reading the cursors, so a
        # message stored in between is either in `hello`'s last_seq or delivered live.
        await self._join(events.user_group(self.user_id))
        if self.session_key:
            await self._join(events.session_group(self.session_key))
        for conversation_id in await in_db_thread(realtime_selectors.conversation_ids_for_user)(user):
            await self._join(events.conversation_group(conversation_id))
        cursors = await in_db_thread(realtime_selectors.conversation_cursors)(user)
        for cursor in cursors:
            self._gain(cursor["id"], last_seq=cursor["last_seq"], unread=cursor["unread"])
            await self._join(events.conversation_group(cursor["id"]))
        for group in list(self.groups_joined):  # lost in between: stop listening
            if group.startswith("conv.") and int(group[5:]) not in self.conversations:
                await self._leave(group)

        self.limits = realtime_limits.acquire(self.user_id)
        await self.base_send({"type": "websocket.accept"})
        self.accepted = True
        await self.send_frame({"type": protocol.HELLO, "user": user_json(self.user), "conversations": cursors})
        await self._announce_presence()
        if not self.closed:
            heartbeat.add(self)

    async def websocket_disconnect(self, message):
        await self._cleanup()
        raise StopConsumer()

    async def close(self, code: int) -> None:
        """Close from the server side, and stop delivering at once."""
        if self.closed:
            return
        self.closed = True
        await self.base_send({"type": "websocket.close", "code": code})
        await self._cleanup()

    async def _cleanup(self) -> None:
        """Leave groups, count the socket out of presence. Runs once, on close or disconnect."""
        if getattr(self, "cleaned", True):
            return
        self.cleaned = True
        self.closed = True
        await heartbeat.remove(self)
        if self.accepted:
            realtime_limits.release(self.user_id)
            try:
                went_offline = await in_thread(realtime_presence.store().closed)(self.user_id, self.socket_id)
            except Exception:
                log_outage("presence store unreachable on close")
                went_offline = False
            if went_offline:
                await events.presence_changed(user_json(self.user), sorted(self.conversations), online=False)
        self.conversations = set()
        for group in list(self.groups_joined):
            await self._leave(group)

    async def _announce_presence(self) -> None:
        try:
            came_online, online = await in_db_thread(_open_presence)(self.user, self.socket_id)
        except Exception:
            log_outage("presence store unreachable on connect")
            return
        if came_online:
            await events.presence_changed(user_json(self.user), sorted(self.conversations), online=True)
        for member in online:
            self.presence_seen[member["id"]] = True
            await self.send_frame({"type": protocol.PRESENCE, "user": member, "online": True})

    # Sending ---------------------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        if not self.closed:
            await self.base_send({"type": "websocket.send", "text": text})

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send_text(events.encode(frame))

    async def send_error(self, code: str, detail: str, *, client_id=None) -> None:
        if code not in protocol.ERROR_CODES:
            code = protocol.INVALID
        frame = {"type": protocol.ERROR, "code": code, "detail": detail}
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send_frame(frame)
        if self.abuse.strike():
            await self.close(protocol.CLOSE_ABUSE)

    # Client frames ---------------------------------------------------------------------------

    async def websocket_receive(self, message):
        if not self.accepted or self.closed:
            return
        text = message.get("text")
        if text is None:
            data = message.get("bytes") or b""
            if len(data) > settings.WS_MAX_FRAME_BYTES:
                await self.send_error(protocol.FRAME_TOO_LARGE, self._too_large_detail())
            else:
                await self.send_error(protocol.INVALID_JSON, "Send JSON text frames, not binary ones.")
            return
        if _too_large(text):
            await self.send_error(protocol.FRAME_TOO_LARGE, self._too_large_detail())
            return
        if not self.frames.take():
            await self.send_error(protocol.RATE_LIMITED, RateLimited.detail)
            return
        try:
            frame = json.loads(text)
        except ValueError:
            await self.send_error(protocol.INVALID_JSON, "That frame is not valid JSON.")
            return
        if not isinstance(frame, dict):
            await self.send_error(protocol.INVALID, "A frame is a JSON object with a “type”.")
            return
        kind = frame.get("type")
        handler = self.HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.send_error(protocol.UNKNOWN_TYPE, "Unknown frame type.")
            return
        client_id = frame.get("client_id") if kind == protocol.MESSAGE_SEND else None
        try:
            await getattr(self, handler)(frame)
        except DomainError as error:
            await self.send_error(error.code, error.detail, client_id=client_id)

    @staticmethod
    def _too_large_detail() -> str:
        return f"Frames can be at most {settings.WS_MAX_FRAME_BYTES} bytes."

    def _take_message_token(self) -> None:
        if not self.limits.messages.take():
            raise RateLimited()

    async def on_message_send(self, frame: dict) -> None:
        conversation_id = _whole_number(frame, "conversation")
        self._take_message_token()
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            # Required on the socket: it is what makes a retry after a drop safe.
            raise Invalid("“client_id” must be a non-empty string (a UUID the client chose).", code=protocol.INVALID)
        message = await write(_send_message, self.user, conversation_id, frame.get("body"), client_id)
        # Sent before the layer's message.new reaches this socket: events are handled in order.
        await self.send_frame({"type": protocol.MESSAGE_ACK, "client_id": client_id, "message": message})

    async def on_message_edit(self, frame: dict) -> None:
        conversation_id, seq = _whole_number(frame, "conversation"), _whole_number(frame, "seq")
        self._take_message_token()
        await write(
            services.message_edit, actor=self.user, conversation_id=conversation_id, seq=seq, body=frame.get("body")
        )

    async def on_message_delete(self, frame: dict) -> None:
        conversation_id, seq = _whole_number(frame, "conversation"), _whole_number(frame, "seq")
        self._take_message_token()
        await write(services.message_delete, actor=self.user, conversation_id=conversation_id, seq=seq)

    async def on_typing(self, frame: dict) -> None:
        conversation_id = _whole_number(frame, "conversation")
        if not self.limits.typing_allowed(conversation_id):
            return  # throttled: typing is a hint, dropping repeats is not an error
        await write(services.typing_notify, actor=self.user, conversation_id=conversation_id)

    async def on_read(self, frame: dict) -> None:
        conversation_id, seq = _whole_number(frame, "conversation"), _whole_number(frame, "seq")
        await write(services.read_mark, actor=self.user, conversation_id=conversation_id, seq=seq)

    async def on_sync(self, frame: dict) -> None:
        cursors = _cursors(frame)
        texts, complete = await in_db_thread(_sync_page)(self.user, cursors)
        for text in texts:
            await self.send_text(text)
        await self.send_frame({"type": protocol.SYNC_DONE, "complete": complete})

    # Channel-layer events --------------------------------------------------------------------

    async def conversation_frame(self, event: dict) -> None:
        """`message.*`, `typing`, `read`, `presence` for one conversation."""
        conversation_id = event["conversation"]
        if conversation_id not in self.conversations:
            return  # never joined, or access already lost
        kind, author = event["kind"], event.get("author")
        if kind in TO_OTHERS_ONLY and author == self.user_id:
            return
        if kind == protocol.PRESENCE:
            if self.presence_seen.get(author) == event["online"]:
                return  # the same change, through another shared conversation
            self.presence_seen[author] = event["online"]
        await self.send_text(event["frame"])
        if kind == protocol.MESSAGE_NEW:
            await self._count_new(conversation_id, event.get("seq"), author)
        elif kind == protocol.MESSAGE_DELETED and self.unread.get(conversation_id):
            await self._recount(conversation_id)

    async def user_frame(self, event: dict) -> None:
        """A frame for this user's sockets (`unread` after a read marker moved)."""
        text = event["frame"]
        frame = json.loads(text)  # rare: one per read, not per message
        if frame.get("type") == protocol.UNREAD:
            conversation_id = frame.get("conversation")
            if conversation_id not in self.conversations:
                return
            self.unread[conversation_id] = frame.get("count", 0)
        await self.send_text(text)

    async def access_added(self, event: dict) -> None:
        conversation_id = event["conversation"]
        if conversation_id in self.conversations:
            await self.send_text(event["frame"])
            return
        added = json.loads(event["frame"]).get("conversation") or {}
        await self._join(events.conversation_group(conversation_id))
        self._gain(conversation_id, last_seq=added.get("last_seq", 0), unread=added.get("unread", 0))
        await self.send_text(event["frame"])
        # Joining a group with history: count its unread messages as `hello` would.
        await self._recount(conversation_id)

    async def access_removed(self, event: dict) -> None:
        for conversation_id in event["conversations"]:
            if conversation_id not in self.conversations:
                continue
            self.conversations.discard(conversation_id)
            self.last_seq.pop(conversation_id, None)
            self.unread.pop(conversation_id, None)
            await self._leave(events.conversation_group(conversation_id))
            await self.send_frame({"type": protocol.CONVERSATION_REMOVED, "conversation": conversation_id})

    async def sockets_close(self, event: dict) -> None:
        """Logout, a password change elsewhere, deactivation: end this socket."""
        keep = event.get("except_session")
        if keep and keep == self.session_key:
            return
        await self.close(protocol.CLOSE_SESSION_ENDED)

    # Unread counters -------------------------------------------------------------------------
    # Kept per socket in memory: set by `hello` and by the `unread` frames read_mark publishes,
    # raised by each new message from someone else. Counting in the database for every
    # recipient of every message would turn one message into N queries.

    def _gain(self, conversation_id: int, *, last_seq: int, unread: int) -> None:
        self.conversations.add(conversation_id)
        self.last_seq[conversation_id] = last_seq
        self.unread[conversation_id] = unread

    async def _count_new(self, conversation_id: int, seq: int | None, author: int | None) -> None:
        if seq is None or seq <= self.last_seq.get(conversation_id, 0):
            return  # already counted in `hello`
        self.last_seq[conversation_id] = seq
        if author == self.user_id:
            return
        self.unread[conversation_id] = self.unread.get(conversation_id, 0) + 1
        await self.send_frame(
            {"type": protocol.UNREAD, "conversation": conversation_id, "count": self.unread[conversation_id]}
        )

    async def _recount(self, conversation_id: int) -> None:
        """Count in the database, and send `unread` if the socket's counter was off.

        For the rare events a counter cannot follow: a deletion while messages were
        unread (it may have been one of them), a conversation gained with history.
        """
        count = await in_db_thread(selectors.unread_count)(self.user, conversation_id)
        if conversation_id in self.conversations and count != self.unread.get(conversation_id):
            self.unread[conversation_id] = count
            await self.send_frame({"type": protocol.UNREAD, "conversation": conversation_id, "count": count})

    # Channel-layer groups --------------------------------------------------------------------

    async def _join(self, group: str) -> None:
        if self.channel_layer is None or group in self.groups_joined:
            return
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception:
            log_outage("channel layer group_add failed")
            return
        self.groups_joined.add(group)

    async def _leave(self, group: str) -> None:
        self.groups_joined.discard(group)
        if self.channel_layer is None:
            return
        try:
            await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            log_outage("channel layer group_discard failed")
