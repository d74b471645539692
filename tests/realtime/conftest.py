"""Socket test helpers: real sessions from the test client, sockets through the real ASGI stack.

Async tests use `@pytest.mark.django_db(transaction=True)`: the consumer's
database work runs in worker threads with their own connections, which only see
committed rows.
"""

import asyncio
import contextlib
import threading
import time
from concurrent import futures
from dataclasses import dataclass

import pytest
from asgiref.sync import SyncToAsync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

from chatsite import outage
from messaging.realtime import limits as realtime_limits
from messaging.realtime import presence as realtime_presence
from messaging.realtime import workers

ORIGIN = b"http://testserver"
HOST = b"testserver"  # the Host header a browser sends with the handshake; the Origin must match it
# Seconds to wait for a frame that must come: only a failing test waits that long, and on a
# loaded machine a sync of 500 cursors alone has taken more than 2 s.
TIMEOUT = 10


@pytest.fixture(scope="session", autouse=True)
def _close_thread_connections(django_db_setup):
    """Close the connections the socket pool's threads and asgiref's shared thread keep open.

    They persist between calls (CONN_MAX_AGE, as in production), and would stop
    pytest-django from dropping the test database at the end of the run.
    """
    yield
    count = workers.db_executor._max_workers
    barrier = threading.Barrier(count)

    def close_in_this_thread() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)  # hold every worker, so each thread runs this once
        connections.close_all()

    futures.wait([workers.db_executor.submit(close_in_this_thread) for _ in range(count)])
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()


@pytest.fixture(autouse=True)
def _clean_socket_state():
    """Per-process limits, the in-memory presence store and the once-a-minute outage log start
    empty in every test: a test that looks for an outage line must not find it already logged
    by the one before."""
    realtime_limits.reset()
    outage.reset()
    store = realtime_presence.store()
    if isinstance(store, realtime_presence.LocalPresence):
        store.reset()
    yield
    realtime_limits.reset()


class Clock:
    """The presence store's clock, moved only by the test: entries expire when the test says,
    however long the steps between take on a busy machine."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def presence_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(realtime_presence, "time", clock)
    return clock


@pytest.fixture
def registered(monkeypatch):
    """`await registered(n)`: until `n` more sockets have joined the process heartbeat, which
    they do once their presence is announced, a moment after `hello`."""
    from messaging.realtime.heartbeat import heartbeat

    added: asyncio.Queue[str] = asyncio.Queue()
    original = heartbeat.add

    def add(socket) -> None:
        original(socket)
        added.put_nowait(socket.socket_id)

    monkeypatch.setattr(heartbeat, "add", add)

    async def wait(count: int) -> None:
        for _ in range(count):
            await asyncio.wait_for(added.get(), TIMEOUT)

    return wait


def login_cookie(user) -> bytes:
    """A real session for `user` (as after logging in), as a Cookie header value."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@pytest.fixture
def application():
    """The project's ASGI app, imported late: after the test environment has set Django up
    and added "testserver" to ALLOWED_HOSTS."""
    from chatsite.asgi import application

    return application


@dataclass
class Socket:
    """An open test socket and the `hello` it got."""

    ws: WebsocketCommunicator
    hello: dict

    async def send(self, frame: dict) -> None:
        await self.ws.send_json_to(frame)

    async def receive(self, timeout: float = TIMEOUT) -> dict:
        return await self.ws.receive_json_from(timeout=timeout)

    async def receive_type(self, kind: str, timeout: float = TIMEOUT) -> tuple[dict, list[dict]]:
        """The next frame of type `kind`, and the frames of other types received before it."""
        skipped = []
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == kind:
                return frame, skipped
            skipped.append(frame)

    async def expect(self, kind: str, timeout: float = TIMEOUT) -> dict:
        """The next frame that is not `presence` (announced whenever a co-member connects); it must be `kind`."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] != "presence":
                assert frame["type"] == kind, frame
                return frame

    async def nothing(self, timeout: float = 0.2) -> bool:
        """No frame other than `presence` arrives within `timeout`."""
        while not await self.ws.receive_nothing(timeout=timeout):
            frame = await self.receive()
            if frame["type"] != "presence":
                raise AssertionError(f"unexpected frame {frame}")
        return True

    async def closed_with(self, timeout: float = TIMEOUT) -> int | None:
        """Skip frames until the server closes the socket; the close code."""
        while True:
            output = await self.ws.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")


@pytest.fixture
async def connect(application):
    """`await connect(user)` → Socket; `await connect(cookie=…, origin=…, expect=False)` → the refusal code."""
    opened: list[WebsocketCommunicator] = []

    async def open_socket(user=None, *, cookie: bytes | None = None, origin: bytes | None = ORIGIN, expect=True):
        if cookie is None and user is not None:
            cookie = await call(login_cookie)(user)
        headers = [(b"host", HOST)]
        if origin is not None:
            headers.append((b"origin", origin))
        if cookie is not None:
            headers.append((b"cookie", cookie))
        ws = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, code = await ws.connect(timeout=TIMEOUT)
        if not expect:
            assert not connected, "the handshake should have been refused"
            return code
        assert connected, f"the handshake was refused ({code})"
        opened.append(ws)
        hello = await ws.receive_json_from(timeout=TIMEOUT)
        assert hello["type"] == "hello"
        return Socket(ws, hello)

    yield open_socket
    for ws in opened:
        # Some were closed by the server during the test; a receive that timed out has cancelled
        # the app, whose CancelledError must not escape here and skip the database flush.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await ws.disconnect(timeout=TIMEOUT)


def call(func):
    """A service or selector, from an async test (through a thread, like the consumer)."""
    return workers.in_db_thread(func)
