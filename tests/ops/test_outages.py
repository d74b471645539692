"""The database or Redis going away while people chat, and coming back: clear errors, no traceback
storm, and recovery without a restart. Real servers behind a proxy the test cuts (tests/faults.py)."""

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import Team
from tests.faults import TcpProxy
from tests.ops.test_serve import session_cookie
from tests.servers import AppServer, server_env

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

RECOVERY_SECONDS = 15  # the pool's reconnect_timeout (5) and a try's wait, with room for a busy machine
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite is a file in the app's process: it cannot go away alone"
)


def _get(server: AppServer, path: str, cookie: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(f"{server.url}{path}", headers={"Cookie": cookie, **headers})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback URL built here
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def _socket_send(server: AppServer, cookie: str, conversation_id: int, body: str) -> dict:
    """The answer to one `message.send` on a fresh socket (an ack or an error)."""
    from websockets.asyncio.client import connect

    async with connect(server.ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        frame = {"type": "message.send", "conversation": conversation_id, "body": body, "client_id": body}
        assert json.loads(await ws.recv())["type"] == "hello"
        return await _after_send(ws, frame)


async def _after_send(ws, frame: dict) -> dict:
    await ws.send(json.dumps(frame))
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 15))
        if answer["type"] in ("message.ack", "error"):
            return answer


async def _chat_through_an_outage(server: AppServer, proxy: TcpProxy, cookie: str, conversation_id: int) -> list:
    """One socket open across the outage: its answers before, during and after."""
    from websockets.asyncio.client import connect

    answers = []
    async with connect(server.ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        for step, action in enumerate(("before", "cut", "during", "restore", "after")):
            if action == "cut":
                proxy.cut()
                continue
            if action == "restore":
                proxy.restore()
                continue
            frame = {"type": "message.send", "conversation": conversation_id, "body": action, "client_id": str(step)}
            answer = await _after_send(ws, frame)
            if action == "after":
                # As a client does with `unavailable` (nothing was changed: try again): the pool may still be
                # waiting out its back-off from a connection attempt made while the database was away.
                deadline = time.monotonic() + RECOVERY_SECONDS
                while answer.get("code") == "unavailable" and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    answer = await _after_send(ws, frame)
            answers.append(answer)
    return answers


def _wait_for_sessions_to_end(proxy: TcpProxy, timeout: float = 10.0) -> None:
    """Until PostgreSQL has ended the sessions opened through the proxy (it notices their sockets closing
    a moment later), so the test database can be dropped at the end of the run."""
    ports = sorted(proxy.upstream_ports)
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while ports and time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(%s)", [ports])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


@needs_postgresql
def test_a_lost_database_answers_503_and_unavailable_then_recovers_without_a_restart(team: Team, tmp_path, collected):
    db = connection.settings_dict
    proxy = TcpProxy((db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)))
    url = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    server = AppServer(
        tmp_path / "server.log",
        env={**server_env(DEBUG=0, STATIC_ROOT=collected), "DATABASE_URL": url, "DB_POOL_TIMEOUT": "1"},
    )
    server.start()
    cookie = session_cookie(team.bob)
    try:
        assert _get(server, "/chats/", cookie)[0] == 200, server.log_tail()
        answers = asyncio.run(_chat_through_an_outage(server, proxy, cookie, team.general.pk))
        assert answers[0]["type"] == "message.ack"
        assert answers[1] == {
            "type": "error",
            "code": "unavailable",
            "detail": answers[1]["detail"],
            "client_id": "2",
        }
        assert answers[2]["type"] == "message.ack", answers[2]  # the same socket, after the database came back

        proxy.cut()
        pages = [_get(server, "/chats/", cookie) for _ in range(3)]
        assert {status for status, _body in pages} == {503}
        assert "cannot reach its database" in pages[0][1]
        status, body = _get(server, f"/chats/{team.general.pk}/messages/", cookie, Accept="application/json")
        assert (status, json.loads(body)["error"]) == (503, "unavailable")

        proxy.restore()
        deadline = time.monotonic() + RECOVERY_SECONDS
        while (status := _get(server, "/chats/", cookie)[0]) != 200 and time.monotonic() < deadline:
            pass  # each try waits up to DB_POOL_TIMEOUT for a connection
        assert status == 200, f"not back {RECOVERY_SECONDS} s after the database"
    finally:
        server.close()
        proxy.close()
        _wait_for_sessions_to_end(proxy)
    lines = server.log_tail(2000).splitlines()
    # One record a minute per kind (pages, socket frames, the heartbeat, the pool), not one per request.
    kinds = [
        line.split(" user=")[0].split(" ", 1)[1] + line.split("conversation=- ")[1][:40]
        for line in lines
        if "Traceback" in line
    ]
    assert len(kinds) == len(set(kinds)), lines
    assert len([line for line in lines if "psycopg.pool" in line]) <= 2, lines
    assert [m.body for m in team.general.messages.order_by("seq")] == ["before", "after"]


needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="the channel layer is Redis only with REDIS_URL")


async def _frame(ws, kind: str, timeout: float = 15.0, seq: int | None = None) -> dict:
    """The next frame of type `kind` (others skipped); with `seq`, the `message.new` of that message."""
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if frame["type"] == kind and (seq is None or frame["message"]["seq"] == seq):
            return frame


async def _chat_through_a_redis_restart(server: AppServer, proxy: TcpProxy, alice: str, bob: str, conversation: int):
    from websockets.asyncio.client import connect

    def frame(n: int) -> dict:
        return {"type": "message.send", "conversation": conversation, "body": f"m{n}", "client_id": f"c{n}"}

    options = {"origin": server.url, "open_timeout": 10}
    async with (
        connect(server.ws_url, additional_headers={"Cookie": alice}, **options) as a,
        connect(server.ws_url, additional_headers={"Cookie": bob}, **options) as b,
    ):
        await _frame(a, "hello")
        await _frame(b, "hello")
        await a.send(json.dumps(frame(1)))
        assert (await _frame(a, "message.ack"))["message"]["seq"] == 1
        assert (await _frame(b, "message.new"))["message"]["seq"] == 1  # live

        proxy.cut()  # Redis goes away: what it held for these connections (subscriptions) is gone
        await a.send(json.dumps(frame(2)))
        assert (await _frame(a, "message.ack"))["message"]["seq"] == 2  # still stored and acknowledged

        proxy.restore()
        deadline = time.monotonic() + RECOVERY_SECONDS
        n, live = 2, None
        while live is None and time.monotonic() < deadline:  # live delivery comes back by itself
            n += 1
            await a.send(json.dumps(frame(n)))
            seq = (await _frame(a, "message.ack"))["message"]["seq"]
            with contextlib.suppress(TimeoutError):
                # This very message, live: an earlier one arriving late would leave this one in
                # flight, to land among the sync's frames below.
                live = await _frame(b, "message.new", timeout=1.0, seq=seq)
        assert live is not None, "live delivery did not resume"
        await b.send(json.dumps({"type": "sync", "cursors": {str(conversation): 1}}))  # bob saw 1, then a gap
        synced = []
        while (answer := json.loads(await asyncio.wait_for(b.recv(), 15)))["type"] != "sync.done":
            if answer["type"] == "message.new":
                synced.append(answer["message"]["body"])
        assert synced[0] == "m2"  # the gap is filled
        assert synced == [f"m{k}" for k in range(2, n + 1)]


@needs_redis
def test_redis_going_away_keeps_sends_stored_and_live_delivery_comes_back_by_itself(team: Team, tmp_path):
    from urllib.parse import urlsplit

    redis = urlsplit(settings.REDIS_URL)
    proxy = TcpProxy((redis.hostname or "127.0.0.1", redis.port or 6379))
    url = f"redis://127.0.0.1:{proxy.port}{redis.path}"
    server = AppServer(tmp_path / "server.log", env={**server_env(DEBUG=1), "REDIS_URL": url})
    server.start()
    try:
        asyncio.run(
            _chat_through_a_redis_restart(
                server, proxy, session_cookie(team.alice), session_cookie(team.bob), team.general.pk
            )
        )
    finally:
        server.close()
        proxy.close()
    lines = server.log_tail(2000).splitlines()
    assert len([line for line in lines if "Traceback" in line]) <= 6, lines  # once a minute per kind, not a storm
