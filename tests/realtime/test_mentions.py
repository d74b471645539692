"""Mentions over the socket: `unread` frames carry `mentions` beside `count`, kept by the counters'
rule; a mention of someone who cannot see the conversation reaches nobody."""

import uuid

import pytest

from messaging import protocol, services
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_unread_frames_count_mentions_of_this_user_only(connect, team):
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="@bob before")
    bob = await connect(team.bob)
    assert bob.hello["conversations"] == [{"id": team.general.pk, "last_seq": 1, "unread": 1, "mentions": 1}]
    alice = await connect(team.alice)

    for body, mentions in (("@Bob now", 2), ("no one", 2), ('data-mention="all" <span class="mention">', 2)):
        frame = {"type": protocol.MESSAGE_SEND, "conversation": team.general.pk, "body": body}
        await alice.send({**frame, "client_id": str(uuid.uuid4())})
        await bob.expect("message.new")
        unread = await bob.expect("unread")
        assert unread["mentions"] == mentions

    await bob.send({"type": "read", "conversation": team.general.pk, "seq": 4})
    assert await bob.expect("unread") == {"type": "unread", "conversation": team.general.pk, "count": 0, "mentions": 0}


async def test_a_mention_of_an_outsider_reaches_nobody(connect, team):
    carol = await connect(team.carol)
    alice = await connect(team.alice)
    frame = {"type": protocol.MESSAGE_SEND, "conversation": team.general.pk, "body": "@carol look"}
    await alice.send({**frame, "client_id": str(uuid.uuid4())})
    ack = await alice.expect("message.ack")
    assert ack["message"]["html"] == "<p>@carol look</p>"
    assert await carol.nothing()
    assert (await connect(team.carol)).hello["conversations"] == []


async def test_an_edit_that_adds_or_drops_a_mention_of_an_unread_reader_sends_their_unread(connect, team):
    general = team.general.pk
    await call(services.message_send)(actor=team.alice, conversation_id=general, body="plain")
    bob = await connect(team.bob)
    author = await connect(team.alice)  # the author's own socket: never counts her own message
    assert bob.hello["conversations"] == [{"id": general, "last_seq": 1, "unread": 1, "mentions": 0}]

    await call(services.message_edit)(actor=team.alice, conversation_id=general, seq=1, body="now @bob")
    edited = await bob.expect("message.edited")
    assert "mentions_changed" not in edited and "reactors" not in edited
    assert await bob.expect("unread") == {"type": "unread", "conversation": general, "count": 1, "mentions": 1}
    assert (await connect(team.bob)).hello["conversations"][0]["mentions"] == 1  # what a new tab counts

    await call(services.message_edit)(actor=team.alice, conversation_id=general, seq=1, body="now @BOB again")
    await bob.expect("message.edited")
    assert await bob.nothing()  # still mentioned: nothing changed

    await call(services.message_edit)(actor=team.alice, conversation_id=general, seq=1, body="never mind")
    await bob.expect("message.edited")
    assert await bob.expect("unread") == {"type": "unread", "conversation": general, "count": 1, "mentions": 0}
    for _ in range(3):
        await author.expect("message.edited")
    assert await author.nothing()  # her own message: no `unread` for her


async def test_an_edit_adding_a_mention_to_a_message_already_read_changes_no_count(connect, team):
    general = team.general.pk
    await call(services.message_send)(actor=team.alice, conversation_id=general, body="plain")
    await call(services.read_mark)(actor=team.bob, conversation_id=general, seq=1)
    bob = await connect(team.bob)
    await call(services.message_edit)(actor=team.alice, conversation_id=general, seq=1, body="@bob late")
    await bob.expect("message.edited")
    assert await bob.nothing()
