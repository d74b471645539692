"""The database is the source of truth: with the channel layer unreachable, sending still works."""

import socket

import pytest

from messaging.models import Message
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broken_layer(settings):
    """A Redis pub/sub layer pointing at a port where nothing listens."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chatsite.layers.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{unused_port()}/0"], "prefix": "broken"},
        }
    }


async def test_with_the_layer_down_a_message_is_still_stored_and_acked(connect, team, broken_layer):
    alice = await connect(team.alice)
    assert alice.hello["conversations"] == [{"id": team.general.pk, "last_seq": 0, "unread": 0, "mentions": 0}]

    await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "anyone?", "client_id": "k"})

    ack = await alice.expect("message.ack")
    row = await call(Message.objects.select_related("author").get)(conversation=team.general)
    assert ack["client_id"] == "k" and ack["message"]["id"] == row.pk and row.body == "anyone?"
    await alice.send({"type": "sync", "cursors": {str(team.general.pk): 0}})  # catching up still works
    assert (await alice.expect("message.new"))["message"]["id"] == row.pk
    assert await alice.expect("sync.done") == {"type": "sync.done", "complete": True}
