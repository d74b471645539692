"""The site's HTTP handler (chatsite/handler.py) as the server calls it, through chatsite.asgi.application:
a request's sync work in one thread, the threads kept for the next requests, and what Django's handler
does still done (middleware, CSRF, headers, streamed bodies, async views, request signals)."""

import asyncio
import json
import threading

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.core import signals
from django.db import connections
from django.test import Client

from groups import services as group_services
from messaging.selectors import default_conversation
from tests.conftest import send

pytestmark = pytest.mark.django_db(transaction=True)


def scope_for(method: str, path: str, headers: list[tuple[bytes, bytes]], root_path: str = "") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "query_string": b"",
        "root_path": root_path,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def call(method: str, path: str, *, cookie: str = "", body: bytes = b"", headers=(), root_path: str = ""):
    """(status, headers, body) of one request to the site's ASGI application."""
    from chatsite.asgi import application

    all_headers = [*headers, *([(b"cookie", cookie.encode())] if cookie else [])]
    if body:
        all_headers.append((b"content-length", str(len(body)).encode()))
    communicator = ApplicationCommunicator(application, scope_for(method, path, all_headers, root_path))
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(10)
    assert start["type"] == "http.response.start"
    parts = []
    while True:
        message = await communicator.receive_output(10)
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    await communicator.wait(10)
    return start["status"], {key.lower(): value for key, value in start["headers"]}, b"".join(parts)


@pytest.fixture
async def close_thread_connections():
    """Connections opened by the test's own sync_to_async calls are closed afterwards, or PostgreSQL
    refuses to drop the test database while they are open."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def member(make_user):
    user = make_user("handleruser")
    general = default_conversation(group_services.group_create(actor=user, name="Handler group"))
    send(user, general, "through the site's handler")
    login = Client()
    login.force_login(user)
    cookie = "; ".join(f"{morsel.key}={morsel.value}" for morsel in login.cookies.values())
    return user, general, cookie


@pytest.fixture
def threads_seen():
    """The thread each request_started and request_finished receiver ran in, in order."""
    seen = []

    def started(**_kwargs):
        seen.append(("started", threading.current_thread()))

    def finished(**_kwargs):
        seen.append(("finished", threading.current_thread()))

    signals.request_started.connect(started, weak=False)
    signals.request_finished.connect(finished, weak=False)
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


@pytest.mark.usefixtures("close_thread_connections")
async def test_a_page_is_made_in_one_thread_and_the_next_request_reuses_it(member, threads_seen):
    """Django's own handler starts a thread per request (and one more to shut it down); here requests
    one after another run in one kept thread, each request's sync work all in it, off the event loop."""
    _user, general, cookie = member
    for _ in range(3):
        status, _headers, body = await call("GET", f"/chats/{general.pk}/", cookie=cookie)
        assert status == 200 and "through the site&#x27;s handler" in body.decode()
    threads = {thread for _event, thread in threads_seen}
    assert [event for event, _thread in threads_seen] == ["started", "finished"] * 3
    assert len(threads) == 1 and threading.main_thread() not in threads


@pytest.mark.usefixtures("close_thread_connections")
async def test_security_headers_csrf_and_the_login_redirect_are_unchanged(member):
    _user, general, cookie = member
    status, headers, _body = await call("GET", f"/chats/{general.pk}/", cookie=cookie)
    assert status == 200
    assert headers[b"x-frame-options"] == b"DENY"
    assert b"default-src" in headers[b"content-security-policy"]
    assert headers[b"x-content-type-options"] == b"nosniff"
    # A form post without the CSRF token is refused; an anonymous page view goes to the login page.
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    status, _headers, _body = await call("POST", f"/chats/{general.pk}/", cookie=cookie, body=b"body=hi", headers=form)
    assert status == 403
    status, headers, _body = await call("GET", f"/chats/{general.pk}/")
    assert status == 302 and headers[b"location"].startswith(b"/accounts/login/")


@pytest.mark.usefixtures("close_thread_connections")
async def test_links_follow_the_script_prefix(member):
    _user, general, cookie = member
    status, _headers, body = await call("GET", f"/chats/{general.pk}/", cookie=cookie, root_path="/chat")
    assert status == 200 and f'href="/chat/chats/{general.pk}/"'.encode() in body


@pytest.mark.usefixtures("close_thread_connections")
async def test_a_streamed_export_reads_the_database_as_it_is_sent(member, threads_seen):
    """A streamed body is sent before the response is closed (request_finished after it), in the
    request's thread, whose database connection the export's pages use."""
    _user, _general, cookie = member
    status, _headers, body = await call("GET", "/accounts/settings/export/", cookie=cookie)
    assert status == 200
    assert json.loads(body)["messages"][0]["body"] == "through the site's handler"
    assert [event for event, _thread in threads_seen] == ["started", "finished"]
    assert threads_seen[0][1] is threads_seen[1][1]


@pytest.mark.usefixtures("close_thread_connections")
async def test_an_async_view_is_answered(member):
    status, _headers, body = await call("GET", "/healthz")
    assert status == 200 and json.loads(body)["database"] == "ok"
    # And a page after it, in the same kept thread.
    _user, general, cookie = member
    status, _headers, _body = await call("GET", f"/chats/{general.pk}/", cookie=cookie)
    assert status == 200


class FirstRequestHeld:
    """The first request to start is held in its request_started receiver (in its thread) until `release`."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.started: list[threading.Thread] = []

    def __call__(self, **_kwargs) -> None:
        self.started.append(threading.current_thread())
        if len(self.started) == 1:
            self.entered.set()
            self.release.wait(20)

    async def wait_entered(self) -> bool:
        return await sync_to_async(self.entered.wait, thread_sensitive=False)(10)


@pytest.fixture
def first_request_held():
    held = FirstRequestHeld()
    signals.request_started.connect(held, weak=False)
    yield held
    held.release.set()
    signals.request_started.disconnect(held)


async def start_page_request(path: str, cookie: str) -> ApplicationCommunicator:
    """A GET sent to the site's application, its response not yet read."""
    from chatsite.asgi import application

    communicator = ApplicationCommunicator(application, scope_for("GET", path, [(b"cookie", cookie.encode())]))
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    return communicator


@pytest.mark.usefixtures("close_thread_connections")
async def test_a_request_abandoned_mid_view_does_not_hold_up_the_next_one(member, first_request_held):
    """A client that leaves while its request's sync work still runs: the thread stays busy with the
    abandoned work, so it is not kept for the next request, which runs at once in another thread."""
    _user, general, cookie = member
    leaving = await start_page_request(f"/chats/{general.pk}/", cookie)
    assert await first_request_held.wait_entered()
    await leaving.send_input({"type": "http.disconnect"})
    await leaving.wait(10)  # the handler gave up on it; its thread is still in the receiver
    status, _headers, _body = await call("GET", f"/chats/{general.pk}/", cookie=cookie)
    assert status == 200
    ran_in = first_request_held.started
    assert len(ran_in) == 2 and ran_in[0] is not ran_in[1]


@pytest.mark.usefixtures("close_thread_connections")
async def test_requests_beyond_http_threads_wait_their_turn(member, settings, first_request_held):
    """With HTTP_THREADS=1 a second request does not start its sync work while the first's runs; it runs
    once the first is done."""
    settings.HTTP_THREADS = 1
    _user, general, cookie = member
    first = await start_page_request(f"/chats/{general.pk}/", cookie)
    assert await first_request_held.wait_entered()
    second = asyncio.ensure_future(call("GET", f"/chats/{general.pk}/", cookie=cookie))
    await asyncio.sleep(0.3)  # time for the second to start its sync work, were it allowed to
    assert len(first_request_held.started) == 1 and not second.done()
    first_request_held.release.set()
    assert (await first.receive_output(10))["status"] == 200
    status, _headers, _body = await second
    assert status == 200 and len(first_request_held.started) == 2
    await first.wait(10)
