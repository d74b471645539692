"""`message.send` with `reply_to`: the reply's message object carries its original."""

import uuid

import pytest

from messaging import protocol, services
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_reply_over_the_socket(connect, team):
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="lunch?")
    alice, bob = await connect(team.alice), await connect(team.bob)
    frame = {"type": protocol.MESSAGE_SEND, "conversation": team.general.pk, "body": "yes", "reply_to": 1}

    await bob.send({**frame, "client_id": str(uuid.uuid4())})
    ack = await bob.expect("message.ack")
    assert ack["message"]["reply_to"] == {
        "seq": 1,
        "author": {
            "id": team.alice.pk,
            "username": "alice",
            "display_name": team.alice.display_name,
            "avatar_url": None,
        },
        "snippet": "lunch?",
        "deleted": False,
    }
    assert (await alice.expect("message.new"))["message"] == ack["message"]
    assert (await alice.expect("unread"))["count"] == 1
    assert (await bob.expect("message.new"))["message"] == ack["message"]

    for bad in (99, "1", -1):
        client_id = str(uuid.uuid4())
        await bob.send({**frame, "reply_to": bad, "client_id": client_id})
        error = await bob.expect("error")
        assert (error["code"], error["client_id"]) == (protocol.INVALID, client_id)
    assert await alice.nothing()
