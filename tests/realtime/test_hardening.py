"""Hostile input, out-of-band changes and faults: the socket's promises hold (docs/protocol.md, "Limits")."""

import asyncio
import logging

import pytest
from channels.layers import get_channel_layer

from accounts.models import User
from groups.models import Membership
from messaging import events, protocol, services
from messaging.models import Message
from messaging.realtime import presence
from messaging.realtime.heartbeat import heartbeat
from tests.realtime.conftest import ORIGIN, call, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _errors_logged(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]


async def test_a_deeply_nested_frame_is_invalid_json_and_the_socket_goes_on(connect, team, caplog):
    bob = await connect(team.bob)
    await bob.ws.send_to(text_data="[" * 5000)
    assert (await bob.expect("error"))["code"] == "invalid_json"
    await bob.ws.send_to(text_data='{"type": "sync", "cursors": ' + '{"1":' * 2500 + "}")
    assert (await bob.expect("error"))["code"] == "invalid_json"
    await bob.send({"type": "sync", "cursors": {}})
    assert await bob.expect("sync.done") == {"type": "sync.done", "complete": True}
    assert _errors_logged(caplog) == []


async def test_a_socket_that_ends_after_bad_frames_is_counted_out_and_the_heartbeat_goes_on(connect, team, settings):
    """The old failure: a frame escaped the consumer, skipped its clean-up, and later killed the heartbeat."""
    settings.WS_PRESENCE_TTL = 0.3
    settings.REVOCATION_RECHECK_SECONDS = 0.1
    alice, bob = await connect(team.alice), await connect(team.bob)
    await bob.ws.send_to(text_data="[" * 5000)
    assert (await bob.expect("error"))["code"] == "invalid_json"
    await bob.ws.disconnect()
    await alice.receive_type("presence")  # bob went offline: his clean-up ran
    assert await call(presence.store().online_among)([team.bob.pk]) == set()
    await call(User.objects.filter(pk=team.alice.pk).update)(is_active=False)  # no event published
    assert await alice.closed_with() == protocol.CLOSE_SESSION_ENDED


class _BrokenSocket:
    """A registered socket whose every use fails: the heartbeat must drop it and go on."""

    socket_id = "broken"
    user_id = 0

    def inject(self, message):
        raise RuntimeError("broken socket")

    def needs_rejoin(self):
        raise RuntimeError("broken socket")


async def test_one_failing_socket_does_not_stop_the_heartbeat_for_the_others(
    connect, team, settings, caplog, registered
):
    settings.WS_PRESENCE_TTL = 0.3
    settings.REVOCATION_RECHECK_SECONDS = 0.1
    bob = await connect(team.bob)
    await registered(1)  # the heartbeat task runs: the broken socket joins it
    heartbeat.sockets["broken"] = _BrokenSocket()
    await call(User.objects.filter(pk=team.bob.pk).update)(is_active=False)
    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert "broken" not in heartbeat.sockets
    assert "heartbeat dropped a socket" in caplog.text


async def test_a_binary_frame_is_invalid_and_the_socket_goes_on(connect, team):
    bob = await connect(team.bob)
    await bob.ws.send_to(bytes_data=b'{"type": "sync", "cursors": {}}')
    assert (await bob.expect("error"))["code"] == "invalid"
    await bob.send({"type": "sync", "cursors": {}})
    await bob.expect("sync.done")


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "ok \udfff"])
@pytest.mark.parametrize("field", ["body", "client_id", "emoji", "extra"])
async def test_text_the_database_cannot_store_is_invalid_and_nothing_is_stored(connect, team, caplog, field, text):
    """NUL (PostgreSQL text refuses it) or an unpaired surrogate (UTF-8 cannot encode it), in any field of
    any frame: before, a message body with NUL raised from the insert and answered `internal_error`."""
    bob = await connect(team.bob)
    send = {"type": "message.send", "conversation": team.general.pk, "body": "hello", "client_id": "c1"}
    await bob.send({**send, field: text})
    assert (await bob.expect("error"))["code"] == "invalid"
    await bob.send({"type": "reaction.toggle", "conversation": team.general.pk, "seq": 1, field: text})
    assert (await bob.expect("error"))["code"] == "invalid"
    assert await call(lambda: Message.objects.count())() == 0
    await bob.send(send)
    assert (await bob.expect("message.ack"))["message"]["body"] == "hello"
    assert _errors_logged(caplog) == []


async def test_sync_takes_500_cursors_and_refuses_more(connect, team, settings):
    bob = await connect(team.bob)
    others = range(10**6, 10**6 + settings.WS_SYNC_MAX_CURSORS - 1)  # ids of nothing: they match nothing
    cursors = {str(n): 0 for n in others} | {str(team.general.pk): 0}
    assert len(cursors) == settings.WS_SYNC_MAX_CURSORS
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="one")
    await bob.expect("message.new")
    await bob.receive_type("unread")
    await bob.send({"type": "sync", "cursors": cursors})
    assert (await bob.expect("message.new"))["message"]["body"] == "one"
    assert await bob.expect("sync.done") == {"type": "sync.done", "complete": True}
    cursors[str(2 * 10**6)] = 0
    await bob.send({"type": "sync", "cursors": cursors})
    error = await bob.expect("error")
    assert error["code"] == "invalid" and "500" in error["detail"]
    await bob.send({"type": "sync", "cursors": {"9" * 5000: 0}})  # a key far past any id
    assert (await bob.expect("error"))["code"] == "invalid"


async def test_a_membership_deleted_in_the_database_stops_delivery_within_the_recheck(connect, team, settings):
    settings.REVOCATION_RECHECK_SECONDS = 0.2
    bob = await connect(team.bob)
    await call(Membership.objects.filter(group=team.group, user=team.bob).delete)()  # no event published
    assert await bob.expect("conversation.removed") == {
        "type": "conversation.removed",
        "conversation": team.general.pk,
    }
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="not for bob")
    assert await bob.nothing(0.3)


async def test_a_membership_added_in_the_database_starts_delivery_within_the_recheck(connect, team, settings):
    settings.REVOCATION_RECHECK_SECONDS = 0.2
    carol = await connect(team.carol)
    await call(Membership.objects.create)(group=team.group, user=team.carol, role="member")  # no event published
    added = (await carol.expect("conversation.added"))["conversation"]
    assert added["id"] == team.general.pk
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="hi carol")
    assert (await carol.expect("message.new"))["message"]["body"] == "hi carol"


async def test_a_password_set_without_an_event_closes_the_sessions_within_the_recheck(connect, team, settings):
    settings.REVOCATION_RECHECK_SECONDS = 0.2
    alice, bob = await connect(team.alice), await connect(team.bob)

    def set_password() -> None:
        user = User.objects.get(pk=team.bob.pk)
        user.set_password("a completely new passphrase")
        user.save()

    await call(set_password)()
    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="alice stays")
    assert (await alice.expect("message.new"))["message"]["body"] == "alice stays"


async def test_sockets_past_the_per_user_cap_are_closed_with_4009_and_the_others_work(connect, team, settings):
    settings.WS_MAX_SOCKETS_PER_USER = 2
    cookie = await call(login_cookie)(team.bob)
    first, second = await connect(cookie=cookie), await connect(cookie=cookie)
    from channels.testing import WebsocketCommunicator

    from chatsite.asgi import application

    third = WebsocketCommunicator(
        application, "/ws/", headers=[(b"host", b"testserver"), (b"origin", ORIGIN), (b"cookie", cookie)]
    )
    connected, _ = await third.connect()
    assert connected
    assert (await third.receive_output(2)) == {"type": "websocket.close", "code": protocol.CLOSE_TOO_MANY_SOCKETS}
    for socket in (first, second):
        await socket.send({"type": "sync", "cursors": {}})
        await socket.expect("sync.done")
    await first.ws.disconnect()
    await connect(cookie=cookie)  # a place was freed


def socket_scope(cookie: bytes) -> dict:
    """The ASGI scope of a socket to /ws/ from the site, for tests that drive the app with their own transport."""
    return {
        "type": "websocket",
        "path": "/ws/",
        "raw_path": b"/ws/",
        "query_string": b"",
        "headers": [(b"origin", ORIGIN), (b"cookie", cookie), (b"host", b"testserver")],
        "subprotocols": [],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize("burst", [False, True], ids=["one_by_one", "in_one_burst"])
async def test_a_client_that_stops_reading_is_closed_with_4010_and_the_others_are_not_held_up(
    application, connect, team, settings, burst
):
    """Drives the ASGI app with a transport that accepts one frame and then never again, as a frozen tab.

    In one burst, the events are published at once and the layer hands them over together, more than
    the bound, and then nothing more: the frozen tab is still closed, the reading one is not."""
    settings.WS_MAX_PENDING_EVENTS = 50
    alice = await connect(team.alice)
    cookie = await call(login_cookie)(team.bob)
    inbox: asyncio.Queue = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    closed = asyncio.get_running_loop().create_future()
    greeted = asyncio.Event()
    sends = 0

    async def send(message: dict) -> None:
        nonlocal sends
        if message["type"] == "websocket.close":
            closed.set_result(message)
        elif message["type"] == "websocket.send":
            sends += 1
            greeted.set()
            if sends > 1:  # `hello` went out; from now on the client reads nothing
                await asyncio.Event().wait()

    frozen = asyncio.ensure_future(application(socket_scope(cookie), inbox.get, send))
    await asyncio.wait_for(greeted.wait(), 3)  # connected: it listens to the conversation
    layer = get_channel_layer()
    count = 120
    publishing = []
    for n in range(count):
        frame = {"type": "typing", "conversation": team.general.pk, "user": {"id": team.carol.pk}, "n": n}
        event = events.conversation_event(team.general.pk, frame, author_id=team.carol.pk)
        publishing.append(layer.group_send(events.conversation_group(team.general.pk), event))
        if not burst:
            await publishing.pop()
    await asyncio.gather(*publishing)  # in order: they queue for the layer's connection in turn
    assert (await asyncio.wait_for(closed, 3)) == {"type": "websocket.close", "code": protocol.CLOSE_TOO_SLOW}
    await asyncio.wait_for(frozen, 3)  # the app returned: nothing of that socket is left running
    received = [await alice.receive_type("typing") for _ in range(count)]
    assert [frame["n"] for frame, _skipped in received] == list(range(count))


def test_the_heartbeat_interval_keeps_a_crashed_servers_sockets_online_at_most_30_seconds(settings):
    assert settings.WS_PRESENCE_TTL <= 30


async def test_a_database_outage_answers_unavailable_and_keeps_the_socket(connect, team, monkeypatch, caplog):
    """The database refusing work (here: the service raising what Django raises when it cannot connect)."""
    from django.db.utils import OperationalError

    bob = await connect(team.bob)

    def unreachable(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(services, "read_mark", unreachable)
    for _ in range(3):
        await bob.send({"type": "read", "conversation": team.general.pk, "seq": 0})
        assert (await bob.expect("error"))["code"] == "unavailable"
    monkeypatch.undo()
    await bob.send({"type": "sync", "cursors": {}})
    await bob.expect("sync.done")
    assert caplog.text.count("database unreachable") <= 1  # once a minute, not once a frame
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_unexpected_fault_answers_internal_error_and_keeps_the_socket(connect, team, monkeypatch):
    bob = await connect(team.bob)

    def broken(**kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(services, "typing_notify", broken)
    await bob.send({"type": "typing", "conversation": team.general.pk})
    assert (await bob.expect("error"))["code"] == "internal_error"
    monkeypatch.undo()
    await bob.send({"type": "sync", "cursors": {}})
    await bob.expect("sync.done")


async def test_a_client_gone_while_an_event_is_delivered_is_no_fault(application, connect, team, caplog):
    """uvicorn raises an OSError (ClientDisconnected) from `send` once the client has gone, before
    the app reads its `websocket.disconnect`: an event delivered in between ends sending quietly."""
    cookie = await call(login_cookie)(team.bob)
    inbox: asyncio.Queue = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    greeted = asyncio.Event()
    refused = asyncio.Event()
    sends = 0

    async def send(message: dict) -> None:
        nonlocal sends
        if message["type"] != "websocket.send":
            return
        sends += 1
        greeted.set()
        if sends > 1:  # after `hello`, the client is gone
            refused.set()
            raise ConnectionResetError("client disconnected")

    gone = asyncio.ensure_future(application(socket_scope(cookie), inbox.get, send))
    await asyncio.wait_for(greeted.wait(), 3)
    for n in range(3):
        frame = {"type": "typing", "conversation": team.general.pk, "user": {"id": team.carol.pk}, "n": n}
        event = events.conversation_event(team.general.pk, frame, author_id=team.carol.pk)
        await get_channel_layer().group_send(events.conversation_group(team.general.pk), event)
    await asyncio.wait_for(refused.wait(), 3)
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(gone, 3)  # ended normally, its clean-up done
    assert sends == 2  # nothing more was tried after the first refusal
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]
