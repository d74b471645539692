"""`ChatConsumer`: one browser tab's socket at /ws/, carrying every conversation of its user.

A thin adapter (docs/protocol.md, "WebSocket"). A client frame is validated
(`frames`), handed to one service or selector in a worker thread (`workers`),
and answered; domain errors become `error` frames. Every service call runs the
permission check (`access_conversation`) again, so a frame is judged by the
database as it is now, never by what was true on connect.

Events from the channel layer arrive already encoded and are forwarded as they
are, after checking their conversation against the set this socket may deliver.
That set is loaded on connect and changed by access events on the user's group,
and re-checked by the heartbeat every REVOCATION_RECHECK_SECONDS, so losing a
conversation takes effect with the very next event, without a database query
per delivered frame. Unread counters follow the rule in `counters`.
"""

import json
import logging
import uuid
from typing import Any, NamedTuple

from channels.exceptions import StopConsumer
from django.conf import settings
from django.db.utils import InterfaceError, OperationalError

from accounts.models import User
from chatsite import sockets
from chatsite.errors import DomainError, RateLimited
from messaging import events, protocol, services
from messaging.realtime import frames, limits, presence, selectors
from messaging.realtime.counters import UnreadCounters, mentions_user, unread_frame
from messaging.realtime.frames import FrameError
from messaging.realtime.heartbeat import heartbeat
from messaging.realtime.loop import LeanConsumer
from messaging.realtime.workers import in_db_thread, in_thread, log_outage
from messaging.selectors import attach_reactions, attach_replies
from messaging.serializers import edited_for, message_json, reaction_changed_for, user_json

logger = logging.getLogger("messaging.realtime")

# Frames relayed to the other members only, never back to the user's own sockets.
TO_OTHERS_ONLY = frozenset({protocol.TYPING, protocol.READ, protocol.PRESENCE})
# The database is down or unreachable: the frame changed nothing, the client may try again.
DATABASE_DOWN = (OperationalError, InterfaceError)
UNAVAILABLE_DETAIL = "The chat cannot reach its database right now. Nothing was changed; try again in a moment."


async def write(func, **kwargs):
    """Run a service (a write) in a worker thread, then publish the events it committed from the event loop."""
    outbox = sockets.Outbox()
    try:
        return await in_db_thread(func)(**kwargs, outbox=outbox)
    finally:
        await outbox.publish()  # only what was committed is in it, even if the call failed after


# Work done in a worker thread: one service or selector call, serialized there too.


def _send_message(*, outbox, **kwargs) -> dict[str, Any]:
    message, _created = services.message_send(**kwargs, outbox=outbox)
    return message.as_json  # built once, for the event and the ack


def _sync_page(user, cursors: dict[int, int]) -> tuple[list[str], bool]:
    messages, complete = selectors.sync_messages(user, cursors, settings.SYNC_MAX_MESSAGES)
    attach_replies(messages)
    attach_reactions(messages, user.pk)
    return [sockets.encode({"type": protocol.MESSAGE_NEW, "message": message_json(m)}) for m in messages], complete


class Opening(NamedTuple):
    """What a connect reads once its groups are joined: `hello`'s state, and presence."""

    hello: selectors.HelloState
    came_online: bool | None  # None: the presence store could not be reached
    online: list[dict]  # the co-members online now


def _open(user, socket_id: str) -> Opening:
    """`hello`'s cursors and flags, and presence: count this socket in, see which co-members are on.

    One worker hop: two queries, then one Redis round trip. The database failing raises (the
    handshake is refused); the presence store failing does not (the socket goes on without it).
    """
    hello = selectors.hello_state(user)
    members = selectors.co_members(user)
    try:
        came_online, online = presence.store().opened_among(user.pk, socket_id, [m["id"] for m in members])
    except Exception:
        log_outage("presence store unreachable on connect")
        return Opening(hello, None, [])
    return Opening(hello, came_online, [member for member in members if member["id"] in online])


class ChatConsumer(LeanConsumer):
    """One browser tab's socket. See the module docstring and docs/protocol.md."""

    accepted = cleaned = False

    # Connection life cycle -------------------------------------------------------------------

    async def websocket_connect(self, message):
        self.groups_joined: set[str] = set()
        self.join_failed = False
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.base_send({"type": "websocket.close"})  # before accept: the handshake is refused
            return
        self.user = user
        self.user_id = user.pk
        session = self.scope["session"]
        self.session_key = session.session_key
        self.session_hash = session.get("_auth_user_hash")
        self.socket_id = uuid.uuid4().hex
        self.counters = UnreadCounters()
        self.presence_seen: dict[int, bool] = {}
        self.profile_versions: dict[int, int] = {}  # user id -> the newest `user.updated` forwarded
        self.frames = limits.frame_bucket()
        self.abuse = limits.AbuseMeter()
        if limits.sockets_open(self.user_id) >= settings.WS_MAX_SOCKETS_PER_USER:
            await self.base_send({"type": "websocket.accept"})
            await self.base_send({"type": "websocket.close", "code": protocol.CLOSE_TOO_MANY_SOCKETS})
            self.closed = True
            return
        self.limits = limits.acquire(self.user_id)
        self.holds_limits = True
        try:
            opening = await self._load()
        except DATABASE_DOWN:
            log_outage("database unreachable: socket handshakes refused")
            await self.base_send({"type": "websocket.close"})
            self.closed = True
            return
        await self.base_send({"type": "websocket.accept"})
        self.accepted = True
        await self.send_frame(
            {
                "type": protocol.HELLO,
                "user": user_json(self.user),
                "conversations": opening.hello.cursors,
                # A tab that was closed or cut off when they changed catches up here.
                "muted": sorted(opening.hello.muted & self.counters.ids()),
                "starred": sorted(opening.hello.starred & self.counters.ids()),
            }
        )
        self.handshake_answered()
        await self._announce_presence(opening)
        if not self.closed:
            heartbeat.add(self)

    async def _load(self) -> Opening:
        """Join the user's groups and read `hello`'s cursors, in the order that misses nothing.

        Access events first, so none is missed between reading the conversations and
        joining them; then every conversation's group before reading its cursor, so a
        message stored in between is either in that cursor or delivered live (the
        rule in `counters`). A conversation gained between the two reads is joined,
        then its cursor read again. Each step's groups are joined in one layer call.
        """
        own = [sockets.user_group(self.user_id)]
        if self.session_key:
            own.append(sockets.session_group(self.session_key))
        await self._join_many(own)
        visible = await in_db_thread(selectors.conversation_ids_for_user)(self.user)
        await self._join_many([events.conversation_group(cid) for cid in sorted(visible)])
        opening = await in_db_thread(_open)(self.user, self.socket_id)
        self.presence_open = opening.came_online is not None
        hello = opening.hello
        cursors = {c["id"]: c for c in hello.cursors}
        late = [cid for cid in cursors if events.conversation_group(cid) not in self.groups_joined]
        if late and self.channel_layer is not None:
            await self._join_many([events.conversation_group(cid) for cid in late])
            again = await in_db_thread(selectors.hello_state)(self.user, late)
            cursors.update((cursor["id"], cursor) for cursor in again.cursors)
            hello.muted.difference_update(late)
            hello.starred.difference_update(late)
            hello.muted.update(again.muted)
            hello.starred.update(again.starred)
        for cursor in cursors.values():
            self.counters.set(
                cursor["id"], last_seq=cursor["last_seq"], unread=cursor["unread"], mentions=cursor["mentions"]
            )
        lost = [g for g in self.groups_joined if g.startswith("conv.") and int(g[5:]) not in self.counters]
        await self._leave_many(lost)  # lost in between: stop listening
        return opening._replace(hello=hello._replace(cursors=[cursors[cid] for cid in sorted(cursors)]))

    async def websocket_disconnect(self, message):
        raise StopConsumer()  # the loop runs `cleanup`

    async def close(self, code: int) -> None:
        """Close from the server side, and stop delivering at once."""
        if self.closed:
            return
        self.closed = True
        await self.base_send({"type": "websocket.close", "code": code})
        await self.cleanup()

    async def cleanup(self) -> None:
        """Leave groups, count the socket out of presence and limits. Runs once, however the socket ends."""
        if self.cleaned:
            return
        self.cleaned = True
        self.closed = True
        if getattr(self, "holds_limits", False):
            limits.release(self.user_id)
        if self.accepted:
            await heartbeat.remove(self)
        if getattr(self, "presence_open", False):
            try:
                went_offline = await in_thread(presence.store().closed)(self.user_id, self.socket_id)
            except Exception:
                log_outage("presence store unreachable on close")
                went_offline = False
            if went_offline and self.accepted:
                await events.presence_changed(user_json(self.user), sorted(self.counters.ids()), online=False)
        self.counters = UnreadCounters()
        await self._leave_many(list(getattr(self, "groups_joined", ())))

    async def _announce_presence(self, opening: Opening) -> None:
        if opening.came_online:
            await events.presence_changed(user_json(self.user), sorted(self.counters.ids()), online=True)
        for member in opening.online:
            self.presence_seen[member["id"]] = True
            await self.send_frame({"type": protocol.PRESENCE, "user": member, "online": True})

    # Sending ---------------------------------------------------------------------------------

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send_text(sockets.encode(frame))

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
        """Every client frame, through one guard: whatever it holds, the answer is a frame, never a fault."""
        if not self.accepted or self.closed:
            return
        client_id = None
        try:
            handler, frame = frames.parse(message)
            client_id = frames.echoed_client_id(frame)
            if not self.frames.take():
                raise FrameError(protocol.RATE_LIMITED, RateLimited.detail)
            await getattr(self, handler)(frame)
        except FrameError as error:
            await self.send_error(error.code, error.detail, client_id=client_id or error.client_id)
        except DomainError as error:
            await self.send_error(error.code, error.detail, client_id=client_id)
        except DATABASE_DOWN:
            log_outage("database unreachable: socket frames answered `unavailable`")
            await self.send_error(protocol.UNAVAILABLE, UNAVAILABLE_DETAIL, client_id=client_id)
        except Exception:
            logger.exception("socket frame failed")
            await self.send_error(
                protocol.INTERNAL_ERROR, "Something went wrong on the server; it was logged.", client_id=client_id
            )

    async def on_message_send(self, frame: dict) -> None:
        conversation_id = frames.whole_number(frame, "conversation")
        client_id = frames.client_id(frame)
        reply_to = frames.reply_to(frame)
        message = await write(
            _send_message,
            actor=self.user,
            conversation_id=conversation_id,
            body=frame.get("body"),
            client_id=client_id,
            reply_to=reply_to,
            attachments=frames.attachment_ids(frame),
        )
        # Sent before the layer's message.new reaches this socket: events are handled in order.
        await self.send_frame({"type": protocol.MESSAGE_ACK, "client_id": client_id, "message": message})

    async def on_message_edit(self, frame: dict) -> None:
        conversation_id, seq = frames.whole_number(frame, "conversation"), frames.whole_number(frame, "seq")
        await write(
            services.message_edit, actor=self.user, conversation_id=conversation_id, seq=seq, body=frame.get("body")
        )

    async def on_message_delete(self, frame: dict) -> None:
        conversation_id, seq = frames.whole_number(frame, "conversation"), frames.whole_number(frame, "seq")
        await write(services.message_delete, actor=self.user, conversation_id=conversation_id, seq=seq)

    async def on_typing(self, frame: dict) -> None:
        conversation_id = frames.whole_number(frame, "conversation")
        if not self.limits.typing_allowed(conversation_id):
            return  # throttled: typing is a hint, dropping repeats is not an error
        await write(services.typing_notify, actor=self.user, conversation_id=conversation_id)

    async def on_read(self, frame: dict) -> None:
        conversation_id, seq = frames.whole_number(frame, "conversation"), frames.whole_number(frame, "seq")
        await write(services.read_mark, actor=self.user, conversation_id=conversation_id, seq=seq)

    async def on_reaction_toggle(self, frame: dict) -> None:
        conversation_id, seq = frames.whole_number(frame, "conversation"), frames.whole_number(frame, "seq")
        await write(
            services.reaction_toggle,
            actor=self.user,
            conversation_id=conversation_id,
            seq=seq,
            emoji=frame.get("emoji"),
        )

    async def on_sync(self, frame: dict) -> None:
        cursors = frames.cursors(frame)
        texts, complete = await in_db_thread(_sync_page)(self.user, cursors)
        for text in texts:
            await self.send_text(text)
        await self.send_frame({"type": protocol.SYNC_DONE, "complete": complete})

    # Channel-layer events --------------------------------------------------------------------

    async def conversation_frame(self, event: dict) -> None:
        """`message.*`, `typing`, `read`, `presence` for one conversation."""
        conversation_id = event["conversation"]
        if conversation_id not in self.counters:
            return  # never joined, or access already lost
        kind, author = event["kind"], event.get("author")
        if kind in TO_OTHERS_ONLY and author == self.user_id:
            return
        if kind == protocol.PRESENCE:
            if self.presence_seen.get(author) == event["online"]:
                return  # the same change, through another shared conversation
            self.presence_seen[author] = event["online"]
        if kind == protocol.REACTION_CHANGED:  # rare: each reader's own `mine`
            await self.send_frame(reaction_changed_for(json.loads(event["frame"]), self.user_id))
            return
        if kind == protocol.MESSAGE_EDITED:  # rare too: the message's reactions with this reader's `mine`
            frame = json.loads(event["frame"])
            mentions_changed = self.user_id in frame.get("mentions_changed", ())
            await self.send_frame(edited_for(frame, self.user_id))
            if mentions_changed and self.counters.has_unread(conversation_id):
                await self._recount(conversation_id)  # a mention of this reader added or dropped
            return
        await self.send_text(event["frame"])
        if kind == protocol.MESSAGE_NEW:
            mine = author == self.user_id
            count = self.counters.message_new(
                conversation_id,
                event.get("seq"),
                mine=mine,
                mentioned=not mine and mentions_user(event["frame"], self.user_id),
            )
            if count is not None:
                await self.send_text(self._unread_text(conversation_id, count))
        elif kind == protocol.MESSAGE_DELETED and self.counters.has_unread(conversation_id):
            await self._recount(conversation_id)  # the deleted message may have been one of them

    async def user_frame(self, event: dict) -> None:
        """A frame for this user's sockets (`unread` after a read marker moved)."""
        text = event["frame"]
        frame = json.loads(text)  # rare: one per read, not per message
        if frame.get("type") == protocol.UNREAD:
            conversation_id = frame.get("conversation")
            if conversation_id not in self.counters:
                return
            self.counters.read(conversation_id, frame.get("count", 0), frame.get("mentions", 0))
        await self.send_text(text)

    async def user_updated(self, event: dict) -> None:
        """`user.updated`: through each conversation shared with that user (checked against this socket's
        access) and the user's own group; forwarded once per change (`version`)."""
        conversation_id = event.get("conversation")
        if conversation_id is not None and conversation_id not in self.counters:
            return
        user_id, version = event["user"], event["version"]
        if self.profile_versions.get(user_id, 0) >= version:
            return
        self.profile_versions[user_id] = version
        await self.send_text(event["frame"])

    async def access_added(self, event: dict) -> None:
        """The user gained a conversation: join its group, then read its cursor (the `counters` rule)."""
        conversation_id = event["conversation"]
        frame = json.loads(event["frame"])
        conversation = frame["conversation"]
        if conversation_id in self.counters:  # already counted (by `hello`): the counters are newer than the event
            conversation["last_seq"] = self.counters.last_seq[conversation_id]
            conversation["unread"] = self.counters.unread[conversation_id]
        elif not await self._gain(conversation_id, conversation):
            return  # lost again before we could read it
        await self.send_frame(frame)

    async def access_removed(self, event: dict) -> None:
        for conversation_id in event["conversations"]:
            await self._lose(conversation_id)

    async def sockets_close(self, event: dict) -> None:
        """Logout, a password change elsewhere, deactivation: end this socket."""
        keep = event.get("except_session")
        if keep and keep == self.session_key:
            return
        await self.close(protocol.CLOSE_SESSION_ENDED)

    # The heartbeat's events (messaging.realtime.heartbeat) -----------------------------------

    async def access_recheck(self, event: dict) -> None:
        """What the database says now of this socket's user: act on any change the events missed."""
        row = event["row"]
        if row is None:  # the account is gone
            await self.close(protocol.CLOSE_SESSION_ENDED)
            return
        active, password, fingerprint = row
        if not active or not self._session_current(password):
            await self.close(protocol.CLOSE_SESSION_ENDED)
            return
        if fingerprint == selectors.conversations_fingerprint(self.counters.ids()):
            return
        visible = await in_db_thread(selectors.conversation_ids_for_user)(self.user)
        for conversation_id in sorted(self.counters.ids() - visible):
            await self._lose(conversation_id)
        gained = sorted(visible - self.counters.ids())
        if gained:
            for conversation in await in_db_thread(selectors.conversations_json)(self.user, gained):
                if await self._gain(conversation["id"], conversation):
                    await self.send_frame({"type": protocol.CONVERSATION_ADDED, "conversation": conversation})

    def _session_current(self, password: str) -> bool:
        """Whether the session's auth hash still matches the password (Django's own check)."""
        if self.session_hash is None:
            return True
        current = User(pk=self.user_id, password=password).get_session_auth_hash()
        return current == self.session_hash

    async def groups_rejoin(self, event: dict) -> None:
        """The channel layer is back after refusing a join: join what this socket listens to."""
        self.join_failed = False
        await self._join(sockets.user_group(self.user_id))
        if self.session_key:
            await self._join(sockets.session_group(self.session_key))
        for conversation_id in sorted(self.counters.ids()):
            await self._join(events.conversation_group(conversation_id))

    def needs_rejoin(self) -> bool:
        return self.join_failed and not self.closed

    # Gaining and losing conversations, unread counts -----------------------------------------

    async def _gain(self, conversation_id: int, conversation: dict) -> bool:
        """Join, then read the cursor; fill `conversation`'s `last_seq` and `unread` from that read.

        False if the user can no longer see it (lost again in between)."""
        await self._join(events.conversation_group(conversation_id))
        cursors = await in_db_thread(selectors.cursors_for)(self.user, [conversation_id])
        if not cursors:
            await self._leave(events.conversation_group(conversation_id))
            return False
        cursor = cursors[0]
        self.counters.set(
            conversation_id, last_seq=cursor["last_seq"], unread=cursor["unread"], mentions=cursor["mentions"]
        )
        conversation["last_seq"], conversation["unread"] = cursor["last_seq"], cursor["unread"]
        return True

    async def _lose(self, conversation_id: int) -> None:
        if conversation_id not in self.counters:
            return
        self.counters.drop(conversation_id)
        await self._leave(events.conversation_group(conversation_id))
        await self.send_frame({"type": protocol.CONVERSATION_REMOVED, "conversation": conversation_id})

    async def _recount(self, conversation_id: int) -> None:
        """Read the cursor again (a deletion the counters cannot follow); send `unread` if it changed."""
        before = (self.counters.unread.get(conversation_id), self.counters.mentions.get(conversation_id))
        cursors = await in_db_thread(selectors.cursors_for)(self.user, [conversation_id])
        if not cursors or conversation_id not in self.counters:
            return
        cursor = cursors[0]
        self.counters.set(
            conversation_id, last_seq=cursor["last_seq"], unread=cursor["unread"], mentions=cursor["mentions"]
        )
        if (cursor["unread"], cursor["mentions"]) != before:
            await self.send_text(self._unread_text(conversation_id, cursor["unread"]))

    def _unread_text(self, conversation_id: int, count: int) -> str:
        return unread_frame(conversation_id, count, self.counters.mentions.get(conversation_id, 0))

    # Channel-layer groups --------------------------------------------------------------------

    async def _join(self, group: str) -> None:
        await self._join_many([group])

    async def _join_many(self, groups: list[str]) -> None:
        """Join these groups: in one layer call where the layer has `group_add_many` (chatsite.layers)."""
        groups = [group for group in groups if group not in self.groups_joined]
        if self.channel_layer is None or not groups:
            return
        add_many = getattr(self.channel_layer, "group_add_many", None)
        try:
            if add_many is not None:
                await add_many(groups, self.channel_name)
                self.groups_joined.update(groups)
                return
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
                self.groups_joined.add(group)
        except Exception:
            log_outage("channel layer group_add failed")
            self.join_failed = True

    async def _leave(self, group: str) -> None:
        await self._leave_many([group])

    async def _leave_many(self, groups: list[str]) -> None:
        self.groups_joined.difference_update(groups)
        if self.channel_layer is None or not groups:
            return
        discard_many = getattr(self.channel_layer, "group_discard_many", None)
        try:
            if discard_many is not None:
                await discard_many(groups, self.channel_name)
                return
            for group in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            log_outage("channel layer group_discard failed")
