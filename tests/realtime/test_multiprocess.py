"""Two real daphne processes sharing PostgreSQL and Redis, as in production.

Each server runs in a subprocess on a socket this test binds first (no port
race), on this run's test database (transactional test: rows are committed, so
the servers see them) with production settings (DEBUG off, persistent database
connections, the Redis pub/sub channel layer). Clients are the `websockets`
package with a real session cookie made in the test database.
"""

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from groups import services as group_services
from messaging.models import Message
from tests.realtime.conftest import call

pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
        reason="needs REDIS_URL and DATABASE_URL (PostgreSQL): processes share only what those provide",
    ),
]

STARTUP_TIMEOUT = 30.0  # seconds for a server to answer its first handshake
FRAME_TIMEOUT = 10.0  # seconds for a frame that must come


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Server:
    """`daphne chatsite.asgi:application` on a listening socket handed over by file descriptor."""

    def __init__(self, log_path: Path):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = f"ws://127.0.0.1:{self.port}/ws/"
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        fd = self.listener.fileno()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(fd), "chatsite.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            pass_fds=[fd],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.listener.close()
        self.log.close()

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])


@pytest.fixture
def servers(transactional_db, tmp_path):
    started = []
    try:
        for name in ("a", "b"):
            started.append(Server(tmp_path / f"daphne-{name}.log"))
        yield started
    finally:
        for server in started:
            server.stop()


class WsClient:
    """A `websockets` connection speaking the chat's frames."""

    def __init__(self, ws, hello):
        self.ws, self.hello = ws, hello

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def expect(self, kind: str) -> dict:
        """The next frame of type `kind`, skipping `presence` and `unread` (tested elsewhere)."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), FRAME_TIMEOUT))
            if frame["type"] not in ("presence", "unread"):
                assert frame["type"] == kind, frame
                return frame


async def open_client(server: Server, cookie: str, stack: contextlib.AsyncExitStack) -> WsClient:
    from websockets.asyncio.client import connect

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"daphne exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            ws = await stack.enter_async_context(
                connect(server.url, origin=server.origin, additional_headers={"Cookie": cookie}, open_timeout=5)
            )
            break
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not answer:\n{server.log_tail()}") from None
            await asyncio.sleep(0.2)
    hello = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
    assert hello["type"] == "hello"
    return WsClient(ws, hello)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def test_a_client_on_one_process_gets_what_is_sent_on_the_other(servers, team):
    a, b = servers
    alice_cookie, bob_cookie = await call(session_cookie)(team.alice), await call(session_cookie)(team.bob)
    async with contextlib.AsyncExitStack() as stack:
        alice = await open_client(a, alice_cookie, stack)
        bob = await open_client(b, bob_cookie, stack)

        await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "from A", "client_id": "1"})
        ack = await alice.expect("message.ack")
        assert (await bob.expect("message.new"))["message"] == ack["message"]
        await bob.send({"type": "message.send", "conversation": team.general.pk, "body": "from B", "client_id": "2"})
        await bob.expect("message.ack")
        await bob.expect("message.new")
        assert (await alice.expect("message.new"))["message"]["body"] == "from A"  # its own, after the ack
        assert (await alice.expect("message.new"))["message"]["body"] == "from B"

        # Revocation published by a third process (this one) reaches the socket on B.
        await call(group_services.member_remove)(actor=team.alice, group_id=team.group.pk, username="bob")
        assert await bob.expect("conversation.removed") == {
            "type": "conversation.removed",
            "conversation": team.general.pk,
        }


async def test_concurrent_senders_on_two_processes_get_gap_free_seqs_each_delivered_once(servers, team):
    a, b = servers
    per_sender = 15
    cookies = [await call(session_cookie)(user) for user in (team.alice, team.bob, team.alice, team.bob)]
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await open_client(server, cookie, stack) for server, cookie in zip((a, a, b, b), cookies, strict=True)
        ]
        total = per_sender * len(clients)
        received: list[list[int]] = [[] for _ in clients]

        async def send_all(index: int) -> None:
            for n in range(per_sender):
                await clients[index].send(
                    {
                        "type": "message.send",
                        "conversation": team.general.pk,
                        "body": f"{index}:{n}",
                        "client_id": f"{index}-{n}",
                    }
                )

        async def collect(index: int) -> None:
            while len(received[index]) < total:
                frame = json.loads(await asyncio.wait_for(clients[index].ws.recv(), FRAME_TIMEOUT))
                if frame["type"] == "message.new":
                    received[index].append(frame["message"]["seq"])
                assert frame["type"] != "error", frame

        await asyncio.gather(*(send_all(i) for i in range(len(clients))), *(collect(i) for i in range(len(clients))))

    seqs = await call(lambda: list(Message.objects.filter(conversation=team.general).values_list("seq", flat=True)))()
    assert sorted(seqs) == list(range(1, total + 1))  # stored without gaps or repeats
    for got in received:
        assert sorted(got) == list(range(1, total + 1))  # every socket got each message exactly once
