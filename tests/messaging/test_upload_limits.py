"""Upload size limits while the body streams in (chatsite/uploads.py): a body too large for the
view is refused from its Content-Length before it is read; a file past ATTACHMENT_MAX_BYTES is
dropped at that point of the stream, never stored whole; under ASGI the refusal comes before
Django spools the body, while the client is still sending."""

import asyncio
import http.client
import json

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.asgi import get_asgi_application

from chatsite.uploads import MULTIPART_OVERHEAD, UploadLimitASGI
from messaging.models import Attachment, Message
from tests.messaging.files import form_send, post_upload
from tests.servers import AppServer, server_env

pytestmark = [pytest.mark.django_db]

LIMIT = 1000


@pytest.fixture
def small_limit(settings):
    settings.ATTACHMENT_MAX_BYTES = LIMIT


@pytest.mark.usefixtures("small_limit")
@pytest.mark.parametrize("media", ["filesystem"], indirect=True)
def test_a_body_over_the_limit_is_refused_from_its_content_length(login, cast, media):
    response = post_upload(login(cast.member), cast.general.pk, "huge.bin", b"x" * (LIMIT + MULTIPART_OVERHEAD))
    assert response.status_code == 413
    assert response.json() == {
        "error": "too_large",
        "detail": "That upload is too large: files can be at most 1000 bytes.",
    }
    assert Attachment.objects.count() == 0 and media.files() == []


@pytest.mark.usefixtures("small_limit")
@pytest.mark.parametrize("media", ["filesystem"], indirect=True)
def test_a_file_over_the_limit_inside_an_allowed_body_is_dropped_as_it_streams(login, cast, media):
    client = login(cast.member)
    response = post_upload(client, cast.general.pk, "big.bin", b"x" * (LIMIT + 1))
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    # The composer form: the text before the files is kept and shown again with the reason.
    files = [("ok.txt", b"fine", "text/plain"), ("big.bin", b"x" * (LIMIT + 1), "application/octet-stream")]
    page = form_send(client, cast.general.pk, "keep this text", files=files)
    assert page.status_code == 413
    assert "files can be at most 1000 bytes" in page.content.decode()
    assert "keep this text</textarea>" in page.content.decode()
    assert Message.objects.count() == 0 and Attachment.objects.count() == 0 and media.files() == []
    # A file at the limit still goes through.
    assert post_upload(client, cast.general.pk, "fits.txt", b"y" * LIMIT).status_code == 201


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def answer(communicator: ApplicationCommunicator) -> tuple[int, bytes]:
    start = await communicator.receive_output(5)
    assert start["type"] == "http.response.start"
    body = await communicator.receive_output(5)
    return start["status"], body["body"]


@pytest.mark.usefixtures("small_limit")
async def test_under_asgi_a_too_large_content_length_is_refused_before_any_byte_is_read():
    app = UploadLimitASGI(get_asgi_application())
    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"content-length", b"999999999")]
    communicator = ApplicationCommunicator(app, http_scope("/chats/1/attachments/", headers))
    # Nothing of the body is sent: the answer comes from the header alone.
    status, body = await answer(communicator)
    assert status == 413 and b'"too_large"' in body
    await communicator.wait(5)


@pytest.mark.usefixtures("small_limit")
async def test_under_asgi_a_chunked_body_is_cut_off_once_it_passes_the_limit():
    app = UploadLimitASGI(get_asgi_application())
    headers = [(b"content-type", b"multipart/form-data; boundary=x")]  # no Content-Length
    communicator = ApplicationCommunicator(app, http_scope("/chats/1/attachments/", headers))
    chunk = b"x" * 16 * 1024
    for _ in range((LIMIT + MULTIPART_OVERHEAD) // len(chunk) + 1):
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": True})
    # The client has more to send, but the answer is already there.
    status, body = await answer(communicator)
    assert status == 413 and b'"too_large"' in body
    await communicator.wait(5)


@pytest.mark.usefixtures("small_limit")
async def test_under_asgi_a_form_posted_without_javascript_gets_a_page_not_json(settings):
    """The composer form over its whole-body limit (10 files): a browser asked for HTML, so the 413
    is a page saying why, with a way back to the conversation (the browser's Back keeps the text)."""
    app = UploadLimitASGI(get_asgi_application())
    headers = [
        (b"content-type", b"multipart/form-data; boundary=x"),
        (b"content-length", b"999999999"),
        (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ]
    communicator = ApplicationCommunicator(app, http_scope("/chats/7/", headers))
    start = await communicator.receive_output(5)
    body = (await communicator.receive_output(5))["body"].decode()
    assert start["status"] == 413
    assert dict(start["headers"])[b"content-type"] == b"text/html; charset=utf-8"
    assert "files can be at most 1000 bytes" in body and 'href="/chats/7/"' in body
    await communicator.wait(5)


@pytest.mark.usefixtures("small_limit")
def test_behind_wsgi_a_form_posted_without_javascript_gets_a_page_not_json(login, cast, settings):
    """The middleware's wall (WSGI, the test client) answers the same way."""
    body = b"x" * (settings.ATTACHMENT_MAX_PER_MESSAGE * LIMIT + MULTIPART_OVERHEAD + 1)
    response = login(cast.member).generic(
        "POST",
        f"/chats/{cast.general.pk}/",
        body,
        content_type="multipart/form-data; boundary=x",
        HTTP_ACCEPT="text/html",
    )
    assert response.status_code == 413 and response["Content-Type"].startswith("text/html")
    assert "files can be at most 1000 bytes" in response.content.decode()
    assert Message.objects.count() == 0


async def test_under_asgi_other_posts_are_not_limited():
    app = UploadLimitASGI(get_asgi_application())
    headers = [(b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", b"5")]
    communicator = ApplicationCommunicator(app, http_scope("/accounts/login/", headers))
    await communicator.send_input({"type": "http.request", "body": b"a=bcd", "more_body": False})
    status, _body = await answer(communicator)
    assert status != 413
    await asyncio.wait_for(communicator.wait(5), 6)


def test_the_production_app_has_the_limit_in_front_of_django():
    from chatsite.asgi import application

    assert isinstance(application.application_mapping["http"], UploadLimitASGI)


@pytest.mark.multiprocess
@pytest.mark.django_db(transaction=True)
def test_the_production_server_answers_413_before_the_body_is_sent(alice, tmp_path):
    """A 30 MiB upload announced by its Content-Length: the answer comes after a few bytes of body."""
    server = AppServer(tmp_path / "server.log", env=server_env(DEBUG=0))
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.putrequest("POST", "/chats/1/attachments/")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(30 * 1024 * 1024))
        connection.endheaders(b"--x\r\n")  # and nothing more
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"] == "too_large"
        connection.close()
    finally:
        server.close()
