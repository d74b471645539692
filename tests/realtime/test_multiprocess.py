"""Two real server processes (`python -m chatsite.serve`) sharing PostgreSQL and Redis, as in production.

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

import pytest
from django.conf import settings
from django.test import Client

from groups import services as group_services
from messaging.models import Message
from tests.realtime.conftest import call
from tests.servers import AppServer, server_env

pytestmark = [
    pytest.mark.multiprocess,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
        reason="needs REDIS_URL and DATABASE_URL (PostgreSQL): processes share only what those provide",
    ),
]

FRAME_TIMEOUT = 10.0  # seconds for a frame that must come


@pytest.fixture
def servers(transactional_db, tmp_path):
    """Two servers with production settings, started together on sockets bound here first."""
    started = []
    try:
        for name in ("a", "b"):
            server = AppServer(tmp_path / f"server-{name}.log", env=server_env(DEBUG=0), hand_over_socket=True)
            started.append(server)
            server.start(wait=False)
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.close()


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


async def open_client(server: AppServer, cookie: str, stack: contextlib.AsyncExitStack) -> WsClient:
    from websockets.asyncio.client import connect

    ws = await stack.enter_async_context(
        connect(server.ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=5)
    )
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
    per_sender = 10  # each user sends 20: within the shared per-user message rate (MESSAGE_RATE_LIMIT)
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
