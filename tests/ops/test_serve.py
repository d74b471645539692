"""The production server (`python -m chatsite.serve`) as clients, the proxy and operators meet it.

Oversize socket frames still reach the app and get its `frame_too_large` answer;
X-Forwarded-Proto/-For count only from the proxy's addresses; uvicorn's own
records come out in the app's single-line log format.
"""

import asyncio
import http.client
import json

import pytest
from django.conf import settings
from django.test import Client

from chatsite.serve import WS_MAX_SIZE
from tests.ops.test_logging import LINE
from tests.servers import AppServer, server_env

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

FRAME_TIMEOUT = 10.0  # seconds for a frame that must come


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _next_frame(ws) -> dict:
    """The next frame that is not about presence or unread counts."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT))
        if frame["type"] not in ("presence", "unread"):
            return frame


async def _send_oversize_frames(server: AppServer, cookie: str) -> tuple[list[dict], int]:
    """Frames just over the app's limit, a normal one, then one over the server's; the answers and the close code."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    limit = settings.WS_MAX_FRAME_BYTES
    async with connect(server.ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=5) as ws:
        answers = [await _next_frame(ws)]
        await ws.send("x" * (limit + 1))
        answers.append(await _next_frame(ws))
        # Fewer characters than the limit, more bytes: the app measures the UTF-8 size.
        await ws.send(json.dumps({"type": "message.send", "body": "é" * (limit // 2 + 1)}, ensure_ascii=False))
        answers.append(await _next_frame(ws))
        await ws.send(json.dumps({"type": "sync", "cursors": {}}))
        answers.append(await _next_frame(ws))
        await ws.send("x" * (WS_MAX_SIZE + 1))
        with pytest.raises(ConnectionClosed) as closed:
            await _next_frame(ws)
    return answers, closed.value.rcvd.code


def test_oversize_frames_get_frame_too_large_and_only_huge_ones_close_the_socket(alice, tmp_path):
    server = AppServer(tmp_path / "server.log", env=server_env(DEBUG=0))
    server.start()
    try:
        answers, close_code = asyncio.run(_send_oversize_frames(server, session_cookie(alice)))
    finally:
        server.close()
    hello, too_large, too_many_bytes, still_open = answers
    assert hello["type"] == "hello"
    detail = f"Frames can be at most {settings.WS_MAX_FRAME_BYTES} bytes."
    assert too_large == {"type": "error", "code": "frame_too_large", "detail": detail}
    assert too_many_bytes == {"type": "error", "code": "frame_too_large", "detail": detail}
    assert still_open == {"type": "sync.done", "complete": True}
    assert close_code == 1009  # message too big: refused by the server before it is buffered


async def _send_binary_frames(server: AppServer, cookie: str) -> list[dict]:
    from websockets.asyncio.client import connect

    async with connect(server.ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=5) as ws:
        answers = [await _next_frame(ws)]
        await ws.send(b'{"type": "sync", "cursors": {}}')
        answers.append(await _next_frame(ws))
        await ws.send(json.dumps({"type": "sync", "cursors": {}}))
        answers.append(await _next_frame(ws))
    return answers


@pytest.mark.parametrize("server_name", ["chatsite.serve", "daphne"])
def test_a_binary_frame_is_invalid_and_the_socket_stays_open_under_both_servers(alice, tmp_path, server_name):
    server = AppServer(tmp_path / "server.log", env=server_env(DEBUG=0), server=server_name)
    server.start()
    try:
        hello, binary, still_open = asyncio.run(_send_binary_frames(server, session_cookie(alice)))
    finally:
        server.close()
    assert hello["type"] == "hello"
    assert binary == {"type": "error", "code": "invalid", "detail": "Send JSON text frames, not binary ones."}
    assert still_open == {"type": "sync.done", "complete": True}
    assert "Traceback" not in server.log_tail(200)


def _status(server: AppServer, path: str, **headers: str) -> int:
    """The status of one GET, redirects not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def _log_records(server: AppServer) -> list[dict]:
    lines = server.log_path.read_text().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), f"lines not in the documented format: {lines}"
    return [match.groupdict() for match in parsed]


def test_proxy_headers_count_only_from_trusted_peers_and_every_request_is_one_log_line(tmp_path):
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    # HTTPS=1 without SECURE_PROXY_SSL_HEADER: only the server's own scheme handling avoids the redirect.
    # STATIC_ROOT: an existing folder, or WhiteNoise warns on stderr (after a deploy's collectstatic it exists).
    env = server_env(DEBUG=0, HTTPS=1, LOG_LEVEL="INFO", STATIC_ROOT=tmp_path)

    behind_proxy = AppServer(tmp_path / "trusted.log", env=env)  # FORWARDED_ALLOW_IPS: loopback by default
    behind_proxy.start()
    try:
        assert _status(behind_proxy, "/", **proxied) == 302  # https already: on to the login page
        assert _status(behind_proxy, "/") == 301  # plain http: redirected to https
    finally:
        behind_proxy.close()

    elsewhere = AppServer(tmp_path / "untrusted.log", env={**env, "FORWARDED_ALLOW_IPS": "192.0.2.1"})
    elsewhere.start()
    try:
        assert _status(elsewhere, "/", **proxied) == 301  # headers from a peer that is not the proxy are ignored
    finally:
        elsewhere.close()

    access = [r["message"] for r in _log_records(behind_proxy) if r["logger"] == "uvicorn.access"]
    assert '203.0.113.9:0 - "GET / HTTP/1.1" 302' in access
    assert any(m.startswith("127.0.0.1:") and m.endswith('"GET / HTTP/1.1" 301') for m in access), access
    access = [r["message"] for r in _log_records(elsewhere) if r["logger"] == "uvicorn.access"]
    assert any(m.startswith("127.0.0.1:") and m.endswith('"GET / HTTP/1.1" 301') for m in access), access


async def _handshake_status(server: AppServer, cookie: str, origin: str, **headers: str) -> int:
    """101 when the production server accepts a socket from `origin`, else the HTTP status it refused with."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    try:
        async with connect(
            server.ws_url, origin=origin, additional_headers={"Cookie": cookie, **headers}, open_timeout=5
        ) as ws:
            assert (await _next_frame(ws))["type"] == "hello"
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code


def test_the_socket_origin_must_match_scheme_host_and_port_under_the_production_server(alice, tmp_path):
    server = AppServer(tmp_path / "server.log", env=server_env(DEBUG=0))
    server.start()
    try:
        cookie = session_cookie(alice)
        site = f"http://127.0.0.1:{server.port}"

        def status(origin: str, **headers: str) -> int:
            return asyncio.run(_handshake_status(server, cookie, origin, **headers))

        assert status(site) == 101
        assert status("http://127.0.0.1:9999") == 403  # another port
        assert status(f"https://127.0.0.1:{server.port}") == 403  # another scheme
        assert status(f"http://localhost:{server.port}") == 403  # another host (though in ALLOWED_HOSTS)
    finally:
        server.close()


async def test_a_handshake_gets_ws_open_timeout_to_be_answered_and_the_listen_backlog_takes_a_storm():
    """websockets' own 10 s dropped the handshakes still in line in a reconnect storm with no HTTP answer;
    uvicorn's default backlog (2048) let the kernel drop the SYNs of the rest of a burst."""
    import uvicorn
    from uvicorn.server import ServerState

    from chatsite import serve

    options = serve.server_options(serve.parse_args([]))
    assert options["backlog"] == serve.BACKLOG >= 4096
    assert "limit_concurrency" not in options  # it would answer 503 to every socket past it
    config = uvicorn.Config(app=lambda scope, receive, send: None, **{**options, "log_config": None})
    assert options["ws"] is serve.WS_PROTOCOLS[settings.WS_PROTOCOL]
    sansio = serve.SansIOWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    assert sansio.open_timeout == serve.WS_OPEN_TIMEOUT >= 30
    assert (sansio.conn.max_message_size, sansio.ping_interval) == (serve.WS_MAX_SIZE, serve.WS_PING_INTERVAL)
    assert not sansio.conn.available_extensions and sansio.ping_timeout == serve.WS_PING_TIMEOUT  # no deflate
    legacy = serve.WebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    assert (legacy.open_timeout, legacy.max_size) == (serve.WS_OPEN_TIMEOUT, serve.WS_MAX_SIZE)


async def _serve_in_process(protocol_class, app):
    """`app` behind `protocol_class` with `serve.py`'s options on a free port, without the HTTP protocol in
    front (the WebSocket protocols read the upgrade request themselves); the server and its ws:// URL."""
    import uvicorn
    from uvicorn.server import ServerState

    from chatsite import serve

    options = serve.server_options(serve.parse_args([]))
    config = uvicorn.Config(app=app, **{**options, "ws": protocol_class, "log_config": None, "proxy_headers": False})
    config.load()
    state = ServerState()
    server = await asyncio.get_running_loop().create_server(
        lambda: protocol_class(config=config, server_state=state, app_state={}), "127.0.0.1", 0
    )
    return server, f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ws/"


@pytest.mark.parametrize("name", ["websockets-sansio", "websockets"])
async def test_a_handshake_the_app_does_not_answer_in_ws_open_timeout_is_dropped_and_the_app_finds_it_gone(
    name, monkeypatch
):
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake

    from chatsite import serve

    monkeypatch.setattr(serve, "WS_OPEN_TIMEOUT", 0.5)
    late = asyncio.Event()
    accepted: list[BaseException | None] = []

    async def slow_app(scope, receive, send):
        await receive()  # websocket.connect
        await late.wait()
        try:
            await send({"type": "websocket.accept"})
            accepted.append(None)
        except OSError as gone:  # uvicorn's ClientDisconnected
            accepted.append(gone)

    server, url = await _serve_in_process(serve.WS_PROTOCOLS[name], slow_app)
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(InvalidHandshake) as refused:
            await connect(url, open_timeout=10)
        waited = asyncio.get_running_loop().time() - started
        late.set()
        await asyncio.wait_for(_until(lambda: accepted), 5)
    finally:
        server.close()
    assert 0.5 <= waited < 5
    if name == "websockets-sansio":
        assert refused.value.response.status_code == 503  # an answer, not a dropped connection
        assert isinstance(accepted[0], OSError)  # uvicorn's ClientDisconnected: the app stops there
    # (under `websockets` the late accept is taken, and the app learns of the close from its next frame)


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("name", ["websockets-sansio", "websockets"])
async def test_frames_go_out_in_the_order_they_were_sent_when_the_transport_was_paused(name):
    """A send waiting for a paused transport must not be overtaken by one that comes in as it resumes."""
    from websockets.asyncio.client import connect

    from chatsite import serve

    protocols = []
    done = asyncio.Event()

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        protocol = protocols[0]
        protocol.pause_writing()  # as the transport does when its buffer is full
        first = asyncio.ensure_future(send({"type": "websocket.send", "text": "first"}))
        await asyncio.sleep(0.05)  # `first` now waits for the transport
        protocol.resume_writing()  # the buffer drained; in the same loop turn, another send comes
        await send({"type": "websocket.send", "text": "second"})
        await first
        await done.wait()

    def keep(protocol_class):
        def make(*args, **kwargs):
            protocols.append(protocol_class(*args, **kwargs))
            return protocols[-1]

        return make

    server, url = await _serve_in_process(keep(serve.WS_PROTOCOLS[name]), app)
    try:
        async with connect(url, open_timeout=10) as ws:
            frames = [await asyncio.wait_for(ws.recv(), FRAME_TIMEOUT) for _ in range(2)]
            done.set()
    finally:
        server.close()
    assert frames == ["first", "second"]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_the_servers_own_text_framing_matches_websockets(size):
    from websockets.frames import Frame, Opcode

    from chatsite.serve import text_frame

    data = ("é" * size).encode()[:size]
    assert text_frame(data) == Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[])
