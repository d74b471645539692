"""`reaction.toggle` over the socket: every member's sockets get `reaction.changed`, each with its own `mine`."""

import pytest

from messaging import protocol, services
from messaging.models import Reaction
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_reaction_reaches_every_member_with_their_own_mine(connect, team):
    message, _ = await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="hi")
    alice, bob, carol = await connect(team.alice), await connect(team.bob), await connect(team.carol)

    await bob.send({"type": protocol.REACTION_TOGGLE, "conversation": team.general.pk, "seq": 1, "emoji": "🎉"})

    expected = {
        "type": "reaction.changed",
        "conversation": team.general.pk,
        "seq": 1,
        "reactions": [{"emoji": "🎉", "count": 1, "users": [team.bob.pk], "mine": True}],
    }
    assert await bob.expect("reaction.changed") == expected
    expected["reactions"][0]["mine"] = False
    assert await alice.expect("reaction.changed") == expected
    assert await carol.nothing()
    assert await call(lambda: list(Reaction.objects.values_list("message_id", "user_id", "emoji")))() == [
        (message.pk, team.bob.pk, "🎉")
    ]


async def test_bad_reactions_get_error_frames_and_change_nothing(connect, team):
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="hi")
    bob, carol = await connect(team.bob), await connect(team.carol)
    frame = {"type": protocol.REACTION_TOGGLE, "conversation": team.general.pk, "seq": 1}

    await bob.send({**frame, "emoji": "not one"})
    assert (await bob.expect("error"))["code"] == protocol.INVALID
    await bob.send({**frame, "seq": "1", "emoji": "👍"})
    assert (await bob.expect("error"))["code"] == protocol.INVALID
    await carol.send({**frame, "emoji": "👍"})
    assert (await carol.expect("error"))["code"] == protocol.NOT_FOUND
    await bob.send({**frame, "seq": 2, "emoji": "👍"})
    assert (await bob.expect("error"))["code"] == protocol.NOT_FOUND
    assert await call(lambda: Reaction.objects.count())() == 0


async def test_sync_and_edits_carry_the_messages_reactions_with_each_readers_mine(connect, team):
    message, _ = await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="hi")
    await call(services.reaction_toggle)(actor=team.bob, conversation_id=team.general.pk, seq=1, emoji="🎉")
    alice, bob = await connect(team.alice), await connect(team.bob)

    # A reconnecting tab's `sync` gets the message as the history endpoint has it, reactions included.
    await bob.send({"type": protocol.SYNC, "cursors": {str(team.general.pk): 0}})
    synced = (await bob.expect("message.new"))["message"]
    assert synced["reactions"] == [{"emoji": "🎉", "count": 1, "users": [team.bob.pk], "mine": True}]
    await bob.expect("sync.done")

    # An edit keeps them, each socket with its own reader's `mine`.
    await alice.send({"type": protocol.MESSAGE_EDIT, "conversation": team.general.pk, "seq": 1, "body": "hello"})
    for socket, mine in ((alice, False), (bob, True)):
        edited = (await socket.expect("message.edited"))["message"]
        assert edited["html"] == "<p>hello</p>"
        assert edited["reactions"] == [{"emoji": "🎉", "count": 1, "users": [team.bob.pk], "mine": mine}]
    assert message.pk == edited["id"]
