"""One mapping of refusals to codes: the same input refused over the socket and over HTTP with JSON
(the composer's post, edit, reactions) carries the same `code`, from the domain error itself."""

import pytest

from messaging import services
from messaging.models import Message
from tests.conftest import client_for
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)

JSON = {"HTTP_ACCEPT": "application/json"}


def _http(user, path: str, fields: dict) -> tuple[int, str]:
    response = client_for(user).post(path, fields, **JSON)
    return response.status_code, response.json()["error"]


async def _socket(sock, frame: dict) -> str:
    await sock.send({**frame, "client_id": "c"})
    return (await sock.expect("error"))["code"]


def _setup(team) -> None:
    services.message_send(actor=team.alice, conversation_id=team.general.pk, body="alice's")
    services.message_send(actor=team.bob, conversation_id=team.general.pk, body="bob's")
    services.message_send(actor=team.bob, conversation_id=team.general.pk, body="gone")
    services.message_delete(actor=team.bob, conversation_id=team.general.pk, seq=3)


CASES = [
    # (socket frame fields, HTTP path under /chats/<id>/, HTTP fields, status, code)
    ({"type": "message.send", "body": "   "}, "", {"body": "   "}, 400, "blank"),
    ({"type": "message.send", "body": "z" * 4001}, "", {"body": "z" * 4001}, 400, "too_long"),
    ({"type": "message.send", "body": "hi", "reply_to": 99}, "", {"body": "hi", "reply_to": "99"}, 400, "invalid"),
    ({"type": "message.edit", "seq": 2, "body": "  "}, "messages/2/edit/", {"body": "  "}, 400, "blank"),
    ({"type": "message.edit", "seq": 2, "body": "z" * 4001}, "messages/2/edit/", {"body": "z" * 4001}, 400, "too_long"),
    ({"type": "message.edit", "seq": 1, "body": "mine"}, "messages/1/edit/", {"body": "mine"}, 403, "forbidden"),
    ({"type": "message.edit", "seq": 9, "body": "x"}, "messages/9/edit/", {"body": "x"}, 404, "not_found"),
    ({"type": "reaction.toggle", "seq": 1, "emoji": "ab"}, "messages/1/reactions/", {"emoji": "ab"}, 400, "invalid"),
    ({"type": "reaction.toggle", "seq": 3, "emoji": "👍"}, "messages/3/reactions/", {"emoji": "👍"}, 400, "invalid"),
    ({"type": "reaction.toggle", "seq": 9, "emoji": "👍"}, "messages/9/reactions/", {"emoji": "👍"}, 404, "not_found"),
]


@pytest.mark.parametrize(("frame", "path", "fields", "status", "code"), CASES)
async def test_the_socket_and_json_over_http_refuse_alike(connect, team, frame, path, fields, status, code):
    await call(_setup)(team)
    bob = await connect(team.bob)
    general = team.general.pk
    assert await _socket(bob, {**frame, "conversation": general}) == code
    assert await call(_http)(team.bob, f"/chats/{general}/{path}", fields) == (status, code)
    bodies = await call(lambda: list(Message.objects.order_by("seq").values_list("body", flat=True)))()
    assert bodies == ["alice's", "bob's", ""]
