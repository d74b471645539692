"""Sending, editing, deleting over the socket: acks, delivery, idempotency, permissions."""

import asyncio
import threading
import uuid

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from messaging import protocol, services
from messaging.models import Message
from messaging.serializers import message_json
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def stored(conversation_id: int) -> list[Message]:
    return list(Message.objects.filter(conversation_id=conversation_id).select_related("author").order_by("seq"))


async def test_send_is_acked_then_delivered_to_every_member_socket_and_no_one_else(connect, team):
    alice, alice_other_tab, bob, carol = (
        await connect(team.alice),
        await connect(team.alice),
        await connect(team.bob),
        await connect(team.carol),
    )
    client_id = str(uuid.uuid4())

    await alice.send(
        {"type": "message.send", "conversation": team.general.pk, "body": "  hello team  ", "client_id": client_id}
    )

    ack = await alice.expect("message.ack")
    (row,) = await call(stored)(team.general.pk)
    assert ack == {"type": "message.ack", "client_id": client_id, "message": await call(message_json)(row)}
    assert ack["message"]["body"] == "hello team" and ack["message"]["seq"] == 1
    new = {"type": "message.new", "message": ack["message"]}
    assert await alice.expect("message.new") == new  # the sending socket too, after its ack
    assert await alice_other_tab.expect("message.new") == new
    assert await bob.expect("message.new") == new
    assert await bob.expect("unread") == {"type": "unread", "conversation": team.general.pk, "count": 1, "mentions": 0}
    assert await alice.nothing() and await alice_other_tab.nothing()  # no unread for your own message
    assert await carol.nothing()


async def test_a_message_is_stored_before_anyone_is_told(connect, team):
    """message.new leaves only after the transaction that stores the message commits."""
    bob = await connect(team.bob)
    sent, release = threading.Event(), threading.Event()

    def send_in_open_transaction():
        with transaction.atomic():
            services.message_send(actor=team.alice, conversation_id=team.general.pk, body="held")
            sent.set()
            release.wait(timeout=5)

    writer = asyncio.ensure_future(call(send_in_open_transaction)())
    await asyncio.to_thread(sent.wait, 5)
    assert await bob.nothing(timeout=0.3)  # stored but not committed: nothing delivered
    release.set()
    await writer
    frame, _ = await bob.receive_type("message.new")
    (row,) = await call(stored)(team.general.pk)
    assert frame["message"] == await call(message_json)(row)


async def test_resending_a_client_id_answers_with_the_original_and_stores_nothing(connect, team):
    alice, bob = await connect(team.alice), await connect(team.bob)
    frame = {"type": "message.send", "conversation": team.general.pk, "body": "once", "client_id": "c-1"}

    await alice.send(frame)
    first = await alice.expect("message.ack")
    await alice.expect("message.new")
    await bob.expect("message.new")
    await bob.expect("unread")
    await alice.send({**frame, "body": "once, retried"})
    again = await alice.expect("message.ack")

    assert again == first and again["type"] == "message.ack"
    assert len(await call(stored)(team.general.pk)) == 1
    assert await alice.nothing() and await bob.nothing()  # no second message.new

    direct = await call(_direct)(team.alice, "carol")
    added = (await alice.expect("conversation.added"))["conversation"]
    assert (added["id"], added["kind"], added["other_user_id"]) == (direct.pk, "direct", team.carol.pk)
    assert added["other_user"] == {"id": team.carol.pk, "username": "carol", "display_name": "", "avatar_url": None}
    await alice.send({**frame, "conversation": direct.pk})
    error = await alice.expect("error")
    assert error["code"] == "invalid" and error["client_id"] == "c-1"


def _direct(user, username):
    return services.direct_open(actor=user, username=username)[0]


async def test_a_conversation_you_are_not_in_is_not_found_like_one_that_does_not_exist(connect, team):
    carol = await connect(team.carol)
    answers = []
    for conversation_id in (team.general.pk, 999_999):
        for frame in (
            {"type": "message.send", "conversation": conversation_id, "body": "hi", "client_id": "x"},
            {"type": "message.edit", "conversation": conversation_id, "seq": 1, "body": "hi"},
            {"type": "message.delete", "conversation": conversation_id, "seq": 1},
            {"type": "typing", "conversation": conversation_id},
            {"type": "read", "conversation": conversation_id, "seq": 1},
        ):
            await carol.send(frame)
            answers.append(await carol.expect("error"))
    assert {a["code"] for a in answers} == {"not_found"}
    assert answers[:5] == answers[5:]  # word for word: ids of others' conversations leak nothing
    assert await call(stored)(team.general.pk) == []


async def test_edit_and_delete_follow_the_same_rules_as_the_pages(connect, team):
    alice, bob = await connect(team.alice), await connect(team.bob)
    mine, _ = await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="alice's")
    theirs, _ = await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="bob's")
    for socket in (alice, bob):
        await socket.receive_type("message.new")
        await socket.receive_type("message.new")
    await asyncio.sleep(0)

    await bob.send({"type": "message.edit", "conversation": team.general.pk, "seq": mine.seq, "body": "bob was here"})
    assert (await bob.receive_type("error"))[0]["code"] == "forbidden"
    await bob.send({"type": "message.delete", "conversation": team.general.pk, "seq": mine.seq})
    assert (await bob.receive_type("error"))[0]["code"] == "forbidden"
    await bob.send({"type": "message.edit", "conversation": team.general.pk, "seq": 99, "body": "nothing"})
    assert (await bob.receive_type("error"))[0]["code"] == "not_found"

    await alice.send({"type": "message.edit", "conversation": team.general.pk, "seq": mine.seq, "body": "edited"})
    for socket in (alice, bob):
        edited, _ = await socket.receive_type("message.edited")
        assert edited["message"]["body"] == "edited" and edited["message"]["edited_at"]
        assert edited["message"]["seq"] == mine.seq

    # The group's owner moderates: she deletes bob's message.
    await alice.send({"type": "message.delete", "conversation": team.general.pk, "seq": theirs.seq})
    for socket in (alice, bob):
        deleted, _ = await socket.receive_type("message.deleted")
        assert deleted["message"] == {**deleted["message"], "seq": theirs.seq, "deleted": True, "body": ""}
    rows = await call(stored)(team.general.pk)
    assert [(m.body, m.deleted) for m in rows] == [("edited", False), ("", True)]
    await bob.send({"type": "message.edit", "conversation": team.general.pk, "seq": theirs.seq, "body": "back"})
    assert (await bob.receive_type("error"))[0]["code"] == "forbidden"  # deleted stays deleted


async def test_a_refused_change_is_named_by_its_client_id_in_the_error(connect, team):
    """Edits, deletes and reactions may carry a `client_id`: the `error` refusing one names it, so the
    client undoes that change and not another one still waiting."""
    bob = await connect(team.bob)
    mine, _ = await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="alice's")
    await bob.receive_type("message.new")
    general = team.general.pk
    changes = [
        {"type": "message.edit", "conversation": general, "seq": mine.seq, "body": "bob was here", "client_id": "e-1"},
        {"type": "message.delete", "conversation": general, "seq": mine.seq, "client_id": "d-1"},
        {"type": "reaction.toggle", "conversation": general, "seq": 99, "emoji": "👍", "client_id": "r-1"},
    ]
    for frame in changes:
        await bob.send(frame)
    refused = [(await bob.receive_type("error"))[0] for _ in changes]
    assert [(e["code"], e["client_id"]) for e in refused] == [
        ("forbidden", "e-1"),
        ("forbidden", "d-1"),
        ("not_found", "r-1"),
    ]
    await bob.send({"type": "message.delete", "conversation": general, "seq": mine.seq})
    assert "client_id" not in (await bob.receive_type("error"))[0]  # none sent, none echoed
    assert (await call(stored)(general))[0].body == "alice's"


async def test_a_frame_refused_before_its_handler_still_gets_its_client_id_back(connect, team):
    """ "Any frame may carry a `client_id`": an unknown type or a NUL in the text is refused while the
    frame is read, and that refusal names the frame too."""
    alice = await connect(team.alice)
    general = team.general.pk
    refused = [
        {"type": "message.shout", "conversation": general, "client_id": "u-1"},
        {"conversation": general, "client_id": "u-2"},
        {"type": "message.send", "conversation": general, "body": "a\x00b", "client_id": "n-1"},
    ]
    for frame in refused:
        await alice.send(frame)
    errors = [(await alice.receive_type("error"))[0] for _ in refused]
    assert [(e["code"], e.get("client_id")) for e in errors] == [
        ("unknown_type", "u-1"),
        ("unknown_type", "u-2"),
        ("invalid", "n-1"),
    ]
    await alice.send({"type": "message.send", "conversation": general, "body": "x", "client_id": "n\x00-2"})
    assert "client_id" not in (await alice.receive_type("error"))[0]  # a bad client_id is not echoed
    assert await call(stored)(general) == []


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(connect, team, settings):
    alice = await connect(team.alice)
    general = team.general.pk

    async def answer_to(raw=None, frame=None, binary=None):
        if binary is not None:
            await alice.ws.send_to(bytes_data=binary)
        elif raw is not None:
            await alice.ws.send_to(text_data=raw)
        else:
            await alice.send(frame)
        return await alice.expect("error")

    assert (await answer_to(raw="{not json"))["code"] == "invalid_json"
    assert (await answer_to(binary=b'{"type": "typing"}'))["code"] == "invalid"
    assert (await answer_to(raw="[1, 2]"))["code"] == "invalid"
    assert (await answer_to(frame={"type": "message.shout", "conversation": general}))["code"] == "unknown_type"
    assert (await answer_to(frame={"conversation": general}))["code"] == "unknown_type"
    assert (await answer_to(frame={"type": "message.send", "conversation": "general", "body": "x"}))[
        "code"
    ] == "invalid"
    assert (await answer_to(frame={"type": "message.edit", "conversation": general, "seq": True, "body": "x"}))[
        "code"
    ] == "invalid"
    assert (await answer_to(frame={"type": "sync", "cursors": [1, 2]}))["code"] == "invalid"
    assert (await answer_to(frame={"type": "sync", "cursors": {"x": 1}}))["code"] == "invalid"
    assert (await answer_to(frame={"type": "read", "conversation": general, "seq": -1}))["code"] == "invalid"
    assert (await answer_to(frame={"type": "message.send", "conversation": general, "body": "x"}))["code"] == "invalid"
    no_id = {"type": "message.send", "conversation": general, "body": "x", "client_id": ""}
    assert (await answer_to(frame=no_id))["code"] == "invalid"
    blank = await answer_to(frame={"type": "message.send", "conversation": general, "body": "   ", "client_id": "b"})
    assert blank == {"type": "error", "code": "blank", "detail": blank["detail"], "client_id": "b"}
    too_long = {"type": "message.send", "conversation": general, "body": "x" * 4001, "client_id": "t"}
    answer = await answer_to(frame=too_long)
    assert answer["code"] == "too_long" and "4000" in answer["detail"]
    huge = {"type": "message.send", "conversation": general, "body": "é" * settings.WS_MAX_FRAME_BYTES}
    assert (await answer_to(frame=huge))["code"] == "frame_too_large"
    assert (await answer_to(binary=b"x" * (settings.WS_MAX_FRAME_BYTES + 1)))["code"] == "frame_too_large"
    assert await call(stored)(general) == []

    await alice.send({"type": "message.send", "conversation": general, "body": "still here", "client_id": "ok"})
    await alice.expect("message.ack")


async def test_the_message_rate_is_limited_per_user_across_their_sockets(connect, team, settings):
    settings.MESSAGE_RATE_LIMIT = 3
    settings.MESSAGE_RATE_WINDOW = 10**9  # one window for the whole test
    first_tab, second_tab = await connect(team.alice), await connect(team.alice)
    acks = []
    for n, socket in enumerate((first_tab, second_tab, first_tab)):
        await socket.send(
            {"type": "message.send", "conversation": team.general.pk, "body": f"{n}", "client_id": f"{n}"}
        )
        acks.append((await socket.receive_type("message.ack"))[0])
    await second_tab.send({"type": "message.send", "conversation": team.general.pk, "body": "4", "client_id": "4"})
    refused, _ = await second_tab.receive_type("error")
    assert refused["code"] == "rate_limited" and refused["client_id"] == "4"
    assert len(await call(stored)(team.general.pk)) == 3


async def test_a_client_that_keeps_sending_bad_frames_is_disconnected(connect, team, settings):
    settings.WS_ABUSE_ERRORS = 5
    alice = await connect(team.alice)
    for _ in range(4):
        await alice.ws.send_to(text_data="nonsense")
        assert (await alice.expect("error"))["code"] == "invalid_json"
    await alice.ws.send_to(text_data="nonsense")
    assert (await alice.expect("error"))["code"] == "invalid_json"
    assert await alice.closed_with() == protocol.CLOSE_ABUSE


async def test_a_flood_of_messages_ends_with_a_disconnect(connect, team, settings):
    settings.MESSAGE_RATE_LIMIT = 2
    settings.MESSAGE_RATE_WINDOW = 10**9
    settings.WS_ABUSE_ERRORS = 10
    alice = await connect(team.alice)
    for n in range(30):
        await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "spam", "client_id": f"{n}"})
    frames = []
    code = None
    while code is None:
        output = await alice.ws.receive_output(2)
        if output["type"] == "websocket.close":
            code = output["code"]
        else:
            frames.append(output["text"])
    assert code == protocol.CLOSE_ABUSE
    assert len(await call(stored)(team.general.pk)) == 2


async def test_a_burst_larger_than_the_layer_default_capacity_reaches_an_idle_socket(connect, team):
    """150 messages queue up for a socket that is not reading; none is dropped (default capacity is 100)."""
    bob = await connect(team.bob)

    def burst():
        with transaction.atomic():  # one commit: 150 events leave back to back
            for n in range(150):
                services.message_send(actor=team.alice, conversation_id=team.general.pk, body=f"m{n}")

    await call(burst)()
    seqs = []
    while len(seqs) < 150:
        frame, _ = await bob.receive_type("message.new")
        seqs.append(frame["message"]["seq"])
    assert seqs == list(range(1, 151))


async def test_the_configured_layer_keeps_a_150_event_burst_for_a_socket_that_has_not_drained():
    """What `capacity` means: events wait in a socket's queue until it reads them; beyond capacity they are lost.

    The in-memory layer's default (100) would drop a third of this burst; the Redis
    pub/sub layer has no limit. Group names are unique to the test, so a shared
    Redis does not interfere.
    """
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = f"burst.{uuid.uuid4().hex}"
    await layer.group_add(group, channel)
    for n in range(150):
        await layer.group_send(group, {"type": "conversation.frame", "n": n})
    received = [(await asyncio.wait_for(layer.receive(channel), 2))["n"] for _ in range(150)]
    assert received == list(range(150))
    await layer.group_discard(group, channel)
