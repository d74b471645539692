"""The per-user message rate is kept in the cache: a new socket, or a form post, does not reset it."""

import pytest
from django.test import Client

from messaging.models import Message
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def limit(settings):
    settings.MESSAGE_RATE_LIMIT = 2
    settings.MESSAGE_RATE_WINDOW = 10**9  # one window for the whole test


def stored(conversation_id: int) -> list[str]:
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("seq").values_list("body", flat=True))


def post_form(user, conversation_id: int, body: str) -> int:
    client = Client()
    client.force_login(user)
    return client.post(f"/chats/{conversation_id}/", {"body": body}).status_code


async def test_the_socket_answers_rate_limited_and_reconnecting_does_not_reset_it(connect, team, limit):
    general = team.general.pk
    alice = await connect(team.alice)
    for n in range(2):
        await alice.send({"type": "message.send", "conversation": general, "body": f"{n}", "client_id": f"{n}"})
        await alice.receive_type("message.ack")
    await alice.ws.disconnect()

    again = await connect(team.alice)
    await again.send({"type": "message.send", "conversation": general, "body": "2", "client_id": "2"})
    refused, _ = await again.receive_type("error")
    assert refused["code"] == "rate_limited" and refused["client_id"] == "2"
    assert await call(post_form)(team.alice, general, "by form") == 429
    assert await call(stored)(general) == ["0", "1"]


async def test_form_posts_count_against_the_socket(connect, team, limit):
    general = team.general.pk
    for n in range(2):
        assert await call(post_form)(team.alice, general, f"form {n}") == 302
    alice = await connect(team.alice)
    await alice.send({"type": "message.send", "conversation": general, "body": "socket", "client_id": "s"})
    refused, _ = await alice.receive_type("error")
    assert refused["code"] == "rate_limited"
    assert await call(stored)(general) == ["form 0", "form 1"]
