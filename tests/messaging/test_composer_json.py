"""The composer's post (`POST /chats/<id>/`) answers a script that accepts JSON with JSON, as the
edit, delete and reaction endpoints do: 201 `{"message": <message>}`, or `{"error", "detail"}`
with the refusal's status (chatsite/http.py's one mapping)."""

import pytest

from messaging.models import Attachment, Message
from tests.conftest import send
from tests.messaging.files import ELF, image_bytes, upload

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def url(conversation) -> str:
    return f"/chats/{conversation.pk}/"


def stored(conversation) -> list[str]:
    return list(Message.objects.filter(conversation=conversation).order_by("seq").values_list("body", flat=True))


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error", "detail"} and response.json()["error"] == code
    assert response.json()["detail"]


def test_a_send_answers_201_with_the_stored_message_as_history_gives_it(login, cast):
    send(cast.owner, cast.general, "question?")
    client = login(cast.member)
    response = client.post(url(cast.general), {"body": " **yes**, @Olivia ", "reply_to": "1"}, **JSON)
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    message = response.json()["message"]
    assert message["seq"] == 2 and message["body"] == "**yes**, @Olivia"
    assert "<strong>yes</strong>" in message["html"] and f'data-mention="{cast.owner.pk}"' in message["html"]
    assert message["reply_to"]["seq"] == 1
    history = client.get(f"/chats/{cast.general.pk}/messages/").json()["messages"]
    assert history[-1] == message
    assert stored(cast.general) == ["question?", "**yes**, @Olivia"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"body": "   "}, "blank"),
        ({}, "blank"),
        ({"body": "z" * 4001}, "too_long"),
        ({"body": "hi", "reply_to": "77"}, "invalid"),
        ({"body": "hi", "reply_to": "x"}, "invalid"),
        ({"body": "hi", "attachments": "not-an-upload"}, "invalid"),
    ],
)
def test_bad_input_is_400_with_the_code_the_socket_uses(login, cast, fields, code):
    send(cast.owner, cast.general, "first")
    refused(login(cast.member).post(url(cast.general), fields, **JSON), 400, code)
    assert stored(cast.general) == ["first"]


def test_an_outsider_and_a_missing_conversation_get_the_same_404(login, cast):
    outsider = login(cast.outsider).post(url(cast.general), {"body": "hello"}, **JSON)
    refused(outsider, 404, "not_found")
    missing = login(cast.member).post("/chats/987654/", {"body": "hello"}, **JSON)
    refused(missing, 404, "not_found")
    assert outsider.json() == missing.json()
    assert stored(cast.general) == []


def test_anonymous_gets_401_json_not_a_redirect(login, cast):
    refused(login(None).post(url(cast.general), {"body": "hello"}, **JSON), 401, "not_authenticated")
    # A browser without scripts still goes to the log-in page.
    page = login(None).post(url(cast.general), {"body": "hello"})
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert stored(cast.general) == []


def test_over_the_message_rate_is_429_json_with_retry_after(login, cast, settings):
    settings.MESSAGE_RATE_LIMIT = 2
    settings.MESSAGE_RATE_WINDOW = 10**9
    client = login(cast.member)
    assert [client.post(url(cast.general), {"body": f"{n}"}, **JSON).status_code for n in range(2)] == [201, 201]
    response = client.post(url(cast.general), {"body": "too fast"}, **JSON)
    refused(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 10**9
    assert stored(cast.general) == ["0", "1"]


def test_files_posted_with_the_form_come_back_in_the_message(login, cast, media):
    files = [upload("dot.png", image_bytes(size=(4, 3)), "image/png")]
    response = login(cast.member).post(url(cast.general), {"body": "", "files": files}, **JSON)
    assert response.status_code == 201
    (attachment,) = response.json()["message"]["attachments"]
    assert attachment["name"] == "dot.png" and attachment["width"] == 4


def test_a_refused_file_answers_its_own_status_and_stores_nothing(login, cast, media):
    files = [upload("setup", ELF)]
    response = login(cast.member).post(url(cast.general), {"body": "see this", "files": files}, **JSON)
    refused(response, 415, "type_refused")
    assert stored(cast.general) == [] and not Attachment.objects.exists() and media.files() == []


def test_more_files_than_a_message_takes_is_400(login, cast, media, settings):
    settings.ATTACHMENT_MAX_PER_MESSAGE = 2
    files = [upload(f"{n}.png", image_bytes(size=(4, 3)), "image/png") for n in range(3)]
    response = login(cast.member).post(url(cast.general), {"body": "three", "files": files}, **JSON)
    refused(response, 400, "invalid")
    assert stored(cast.general) == []


def test_the_page_answers_are_unchanged_without_json(login, cast):
    client = login(cast.member)
    sent = client.post(url(cast.general), {"body": "hello"})
    assert sent.status_code == 302 and sent["Location"] == f"/chats/{cast.general.pk}/?latest=1"
    blank = client.post(url(cast.general), {"body": " "})
    assert blank.status_code == 400 and "text/html" in blank["Content-Type"]
    assert "Write something" in blank.content.decode()
