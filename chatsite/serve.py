"""The production server: the app under uvicorn with the options measured in BENCHMARKS.md.

    python -m chatsite.serve --host 127.0.0.1 --port 8001   # deploy/chatsite@.service
    python -m chatsite.serve --uds /run/chatsite/8001.sock
    python -m chatsite.serve --fd 3                          # a bound listening socket (tests/servers.py)

systemd, the tests and the benchmark all start this module, so they run one
server with one set of options. `manage.py runserver` (daphne) stays the
development server.

Logging is left to the app: uvicorn's records (one access line per HTTP
request, one per accepted or refused socket) go through the settings' LOGGING,
so they come out in the same single-line format as every other record.
"""

import argparse
import asyncio
import logging
import os
import struct
import sys
import warnings
from http import HTTPStatus

import uvicorn
from django.conf import settings
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

# uvicorn 0.54 deprecates its older `websockets` implementation; it stays selectable (WS_PROTOCOL).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol as UvicornWebSocketProtocol

logger = logging.getLogger("uvicorn.error")

APP = "chatsite.asgi:application"

# As under daphne: frames up to 1 MiB reach the app, which answers those over
# settings.WS_MAX_FRAME_BYTES (16 KiB) with a `frame_too_large` error frame and
# keeps the socket; bigger ones are refused by the server with close code 1009.
WS_MAX_SIZE = 1024 * 1024
WS_PING_INTERVAL = 20.0  # seconds between keepalive pings, as daphne; nginx's /ws/ timeouts are longer
WS_PING_TIMEOUT = 30.0  # seconds without the pong before the socket is dropped, as daphne
# Idle HTTP connections stay open longer than nginx keeps its upstream ones
# (keepalive_timeout, 60 s), so nginx never reuses a connection being closed here.
KEEP_ALIVE_TIMEOUT = 75
# After SIGTERM: seconds requests and socket handlers get to finish (systemd waits 20).
GRACEFUL_SHUTDOWN_TIMEOUT = 10
# Connections the kernel holds for the server to accept (listen()'s backlog; the kernel caps it
# at net.core.somaxconn, 4096 by default since Linux 5.4). A reconnect storm brings thousands at
# once: uvicorn's 2048 let the rest overflow, and an overflowed client's SYN is retried only after
# 1 s, then 3 s. Waiting in this queue does not count towards the 10 s a handshake may take once
# accepted. No `limit_concurrency`: it answers 503 to whatever is over it, sockets included.
BACKLOG = 8192
# Seconds the app may take to answer a socket handshake it has been handed (accept it and send
# `hello`, or refuse it). websockets' own 10 s, which uvicorn does not expose, dropped the handshakes
# still in line in a reconnect storm without any HTTP answer, and their clients came back later to
# the end of the line; in line (chatsite/handshakes.py) they are answered in arrival order, so a
# longer wait serves them. The request itself has been read by then: this is the app's time only.
WS_OPEN_TIMEOUT = 30.0


class WebSocketProtocol(UvicornWebSocketProtocol):
    """uvicorn's `websockets` protocol with WS_OPEN_TIMEOUT for the app's answer to a handshake."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.open_timeout = WS_OPEN_TIMEOUT


class SansIOWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's `websockets-sansio` protocol, the default (BENCHMARKS.md: a third less memory per idle
    socket than `websockets`, which keeps three tasks and a stream reader per connection), with:

    - WS_OPEN_TIMEOUT for the app's answer to a handshake, which uvicorn's sans-I/O protocol does not
      bound at all: past it the handshake is answered 503 and the app finds the client gone;
    - frames in the order the app sent them: uvicorn's `send` waits for a paused transport on an
      `asyncio.Event`, whose `set` lets a send that comes in meanwhile write before the ones woken;
    - the handshake's request and response dropped once answered (their headers were kept per socket);
    - text frames framed and written in one step (`text_frame`).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.open_timeout = WS_OPEN_TIMEOUT
        self.open_timer: asyncio.TimerHandle | None = None
        self.send_line: asyncio.Lock | None = None  # made when a send first waits for the transport
        self.response = None

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        if not self.handshake_complete:
            self.open_timer = self.loop.call_later(self.open_timeout, self.open_timed_out)

    def open_timed_out(self) -> None:
        self.open_timer = None
        if self.handshake_complete or self.initial_response is not None or self.transport.is_closing():
            return
        logger.warning(
            '%s - "WebSocket %s" not answered within %.0f s',
            get_client_addr(self.scope),
            get_path_with_query_string(self.scope),
            self.open_timeout,
        )
        self.disconnected = True  # the app's accept or refusal, when it comes, finds the client gone
        self.conn.send_response(self.conn.reject(HTTPStatus.SERVICE_UNAVAILABLE, "The server is busy; retry.\n"))
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.open_timer is not None:
            self.open_timer.cancel()
            self.open_timer = None
        super().connection_lost(exc)

    async def send(self, message) -> None:
        if (
            message["type"] == "websocket.send"
            and self.send_line is None
            and self.writable.is_set()
            and self.handshake_complete
            and not (self.close_sent or self.disconnected or message.get("bytes") is not None)
            and (text := message.get("text")) is not None
            and self.conn.state is State.OPEN
            and not (self.conn.writes or self.conn.extensions or self.conn.expect_continuation_frame)
        ):
            # Two frames per recipient of every message come through here: framed and written at once, as
            # `conn.send_text` would frame it (tests/ops/test_serve.py holds the two equal), without its
            # Frame object, the output list and two more coroutines per frame.
            self.transport.write(text_frame(text.encode()))
            return
        if self.send_line is None and self.writable.is_set():
            await super().send(message)  # the usual case: written at once, nothing waits before it
        else:
            if self.send_line is None:
                self.send_line = asyncio.Lock()
            async with self.send_line:  # fair: sends that wait for the transport go out in the order they came
                await super().send(message)
        if self.response is not None and self.handshake_complete:
            self.handshake_answered()

    def handshake_answered(self) -> None:
        if self.open_timer is not None:
            self.open_timer.cancel()
            self.open_timer = None
        self.request = self.response = None


def text_frame(data: bytes) -> bytes:
    """A whole, unmasked text frame of `data` (RFC 6455 5.2), as a server sends it without compression."""
    size = len(data)
    if size < 126:
        return bytes((0x81, size)) + data
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + data
    return struct.pack("!BBQ", 0x81, 127, size) + data


# `WS_PROTOCOL` names one of these.
WS_PROTOCOLS = {"websockets-sansio": SansIOWebSocketProtocol, "websockets": WebSocketProtocol}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m chatsite.serve", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    bind = parser.add_mutually_exclusive_group()
    bind.add_argument("--uds", metavar="PATH", help="listen on this Unix socket instead")
    bind.add_argument("--fd", type=int, metavar="N", help="serve an already bound, listening socket instead")
    return parser.parse_args(argv)


def server_options(args: argparse.Namespace) -> dict:
    """Keyword arguments for `uvicorn.run`."""
    if WS_MAX_SIZE <= settings.WS_MAX_FRAME_BYTES:
        raise ValueError("WS_MAX_SIZE must exceed WS_MAX_FRAME_BYTES, or the app never sees an oversize frame.")
    if args.uds:
        bind = {"uds": args.uds}
    elif args.fd is not None:
        bind = {"fd": args.fd}
    else:
        bind = {"host": args.host, "port": args.port}
    return {
        **bind,
        "http": "httptools",
        "loop": "uvloop",
        "ws": WS_PROTOCOLS[settings.WS_PROTOCOL],
        "ws_per_message_deflate": False,
        "ws_max_size": WS_MAX_SIZE,
        "ws_ping_interval": WS_PING_INTERVAL,
        "ws_ping_timeout": WS_PING_TIMEOUT,
        "lifespan": "off",  # the app has no startup or shutdown hooks
        # X-Forwarded-For/-Proto set the client address and scheme, as daphne's --proxy-headers
        # did, but only from the proxy's addresses. A Unix socket's peers have no address: its
        # file permissions decide who may connect, so its peers are trusted.
        "proxy_headers": True,
        "forwarded_allow_ips": "*" if args.uds else settings.FORWARDED_ALLOW_IPS,
        "log_config": None,  # the app's LOGGING formats uvicorn's records too
        "access_log": True,
        "timeout_keep_alive": KEEP_ALIVE_TIMEOUT,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_TIMEOUT,
        "backlog": BACKLOG,
    }


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    if settings.SWITCH_INTERVAL:
        sys.setswitchinterval(settings.SWITCH_INTERVAL)
    uvicorn.run(APP, **server_options(parse_args(argv)))


if __name__ == "__main__":
    main()
