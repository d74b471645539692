"""Typing, read markers, unread counts, sync and presence."""

import pytest
from django.db import transaction

from messaging import services
from messaging.models import ReadState
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def user_json(user) -> dict:
    return {"id": user.pk, "username": user.username, "display_name": user.display_name, "avatar_url": user.avatar_url}


async def test_typing_goes_to_the_other_members_only_and_is_throttled(connect, team, settings):
    settings.WS_TYPING_INTERVAL = 60.0
    alice, alice_other_tab, bob, carol = (
        await connect(team.alice),
        await connect(team.alice),
        await connect(team.bob),
        await connect(team.carol),
    )
    topic = await call(services.topic_create)(actor=team.alice, group_id=team.group.pk, name="plans")
    for socket in (alice, alice_other_tab, bob):
        await socket.expect("conversation.added")

    await alice.send({"type": "typing", "conversation": team.general.pk})
    assert await bob.expect("typing") == {
        "type": "typing",
        "conversation": team.general.pk,
        "user": user_json(team.alice),
    }
    await alice.send({"type": "typing", "conversation": team.general.pk})  # within the interval: dropped
    await alice_other_tab.send({"type": "typing", "conversation": team.general.pk})  # same user, other tab
    await alice.send({"type": "typing", "conversation": topic.pk})  # another conversation has its own clock
    assert (await bob.expect("typing"))["conversation"] == topic.pk
    assert await bob.nothing()
    assert await alice.nothing() and await alice_other_tab.nothing() and await carol.nothing()
    assert not await call(ReadState.objects.exists)()  # nothing stored


async def test_read_moves_forward_only_and_tells_the_others(connect, team):
    for n in range(3):
        await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body=f"{n}")
    alice, alice_other_tab, bob = await connect(team.alice), await connect(team.alice), await connect(team.bob)
    assert alice.hello["conversations"] == [{"id": team.general.pk, "last_seq": 3, "unread": 3, "mentions": 0}]

    await alice.send({"type": "read", "conversation": team.general.pk, "seq": 2})
    read = {"type": "read", "conversation": team.general.pk, "user": user_json(team.alice), "seq": 2}
    assert await bob.expect("read") == read
    unread = {"type": "unread", "conversation": team.general.pk, "count": 1, "mentions": 0}
    assert await alice.expect("unread") == unread
    assert await alice_other_tab.expect("unread") == unread  # every tab of the reader

    await alice.send({"type": "read", "conversation": team.general.pk, "seq": 1})  # back: ignored
    assert await bob.nothing() and await alice.nothing()
    state = await call(ReadState.objects.get)(user=team.alice, conversation=team.general)
    assert state.last_read_seq == 2

    await alice.send({"type": "read", "conversation": team.general.pk, "seq": 99})  # past the end: to the end
    assert (await bob.expect("read"))["seq"] == 3
    assert (await alice.expect("unread"))["count"] == 0


async def test_unread_counts_follow_new_and_deleted_messages(connect, team):
    alice, bob = await connect(team.alice), await connect(team.bob)
    for n in range(2):
        await bob.send({"type": "message.send", "conversation": team.general.pk, "body": f"{n}", "client_id": f"{n}"})
        await bob.expect("message.ack")
        await bob.expect("message.new")
        await alice.expect("message.new")
        assert await alice.expect("unread") == {
            "type": "unread",
            "conversation": team.general.pk,
            "count": n + 1,
            "mentions": 0,
        }
    await bob.send({"type": "message.delete", "conversation": team.general.pk, "seq": 2})
    await alice.expect("message.deleted")
    assert await alice.expect("unread") == {
        "type": "unread",
        "conversation": team.general.pk,
        "count": 1,
        "mentions": 0,
    }
    assert (await connect(team.alice)).hello["conversations"][0]["unread"] == 1  # the database agrees


async def test_sync_sends_what_was_missed_in_seq_order_then_done(connect, team):
    direct, _ = await call(services.direct_open)(actor=team.alice, username="bob")
    for n in range(4):
        await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body=f"g{n}")
    await call(services.message_send)(actor=team.bob, conversation_id=direct.pk, body="d0")
    private, _ = await call(services.direct_open)(actor=team.bob, username="carol")
    await call(services.message_send)(actor=team.bob, conversation_id=private.pk, body="not for alice")
    alice = await connect(team.alice)

    await alice.send(
        {"type": "sync", "cursors": {str(team.general.pk): 2, str(direct.pk): 0, str(private.pk): 0, "987654": 0}}
    )
    frames = [await alice.expect("message.new") for _ in range(3)]
    assert [(f["message"]["conversation"], f["message"]["seq"]) for f in frames] == [
        (team.general.pk, 3),
        (team.general.pk, 4),
        (direct.pk, 1),
    ]
    assert [f["message"]["body"] for f in frames] == ["g2", "g3", "d0"]
    assert await alice.expect("sync.done") == {"type": "sync.done", "complete": True}
    await alice.send({"type": "sync", "cursors": {}})
    assert await alice.expect("sync.done") == {"type": "sync.done", "complete": True}


async def test_sync_pages_at_500_messages(connect, team, settings):
    assert settings.SYNC_MAX_MESSAGES == 500

    def many():
        with transaction.atomic():
            for n in range(520):
                services.message_send(actor=team.bob, conversation_id=team.general.pk, body=f"{n}")

    await call(many)()
    alice = await connect(team.alice)
    cursors = {str(team.general.pk): 0}
    seqs, pages = [], []
    while True:
        await alice.send({"type": "sync", "cursors": cursors})
        while (frame := await alice.receive())["type"] == "message.new":
            seqs.append(frame["message"]["seq"])
            cursors[str(team.general.pk)] = frame["message"]["seq"]
        assert frame["type"] == "sync.done"
        pages.append(frame["complete"])
        if frame["complete"]:
            break
    assert pages == [False, True]
    assert seqs == list(range(1, 521))


async def test_presence_is_online_while_any_socket_is_open(connect, team):
    alice = await connect(team.alice)
    bob_first = await connect(team.bob)
    online = {"type": "presence", "user": user_json(team.bob), "online": True}
    assert await alice.receive() == online
    assert await bob_first.receive() == {"type": "presence", "user": user_json(team.alice), "online": True}

    bob_second = await connect(team.bob)
    assert await bob_second.receive() == {"type": "presence", "user": user_json(team.alice), "online": True}
    assert await alice.ws.receive_nothing(0.2)  # bob was already online
    await bob_first.ws.disconnect()
    assert await alice.ws.receive_nothing(0.2)  # still one socket open
    await bob_second.ws.disconnect()
    assert await alice.receive() == {"type": "presence", "user": user_json(team.bob), "online": False}

    carol = await connect(team.carol)  # shares no conversation with alice
    assert await carol.ws.receive_nothing(0.2) and await alice.ws.receive_nothing(0.2)


async def test_presence_is_announced_once_however_many_conversations_are_shared(connect, team):
    await call(services.topic_create)(actor=team.alice, group_id=team.group.pk, name="second")
    await call(services.direct_open)(actor=team.alice, username="bob")
    alice = await connect(team.alice)
    bob = await connect(team.bob)
    assert await alice.receive() == {"type": "presence", "user": user_json(team.bob), "online": True}
    await bob.ws.disconnect()
    assert await alice.receive() == {"type": "presence", "user": user_json(team.bob), "online": False}
    assert await alice.ws.receive_nothing(0.2)


async def test_layer_events_and_frames_are_handled_one_at_a_time_in_order(connect, team):
    """Events from the layer and frames from the client share one handler at a time; each keeps its order."""
    from channels.layers import get_channel_layer

    from chatsite import sockets
    from messaging import protocol

    alice = await connect(team.alice)
    layer = get_channel_layer()
    for n in range(5):
        frame = sockets.encode({"type": protocol.UNREAD, "conversation": team.general.pk, "count": n})
        await layer.group_send(sockets.user_group(team.alice.pk), {"type": "user.frame", "frame": frame})
    await alice.send({"type": "sync", "cursors": {}})
    counts, done = [], False
    while len(counts) < 5 or not done:
        frame = await alice.receive()
        if frame["type"] == "unread":
            counts.append(frame["count"])
        elif frame["type"] == "sync.done":
            done = True
    assert counts == [0, 1, 2, 3, 4]


async def test_a_layer_event_without_a_handler_is_logged_and_the_socket_goes_on(connect, team, caplog):
    """An event type this process does not know (a newer process in a rolling deploy) ends nothing."""
    from channels.layers import get_channel_layer

    from chatsite import sockets

    alice = await connect(team.alice)
    await get_channel_layer().group_send(sockets.user_group(team.alice.pk), {"type": "no.such.event"})
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="still here")
    assert (await alice.expect("message.new"))["message"]["body"] == "still here"
    assert "socket event without a handler ignored: no.such.event" in caplog.text
