"""A tab that stops reading, against the production server (`python -m chatsite.serve`).

The reader is a raw TCP client that completes the WebSocket handshake, takes its `hello` and
then never reads again, with a small receive buffer so the kernel cannot absorb the flood. While
another member floods the conversation, the server's memory must stay bounded (the per-socket
backlog, docs/protocol.md "Limits"), the frozen socket must be dropped, and the members who read
must get every message, in order, without waiting on the frozen one.
"""

import asyncio
import base64
import json
import os
import socket
import struct
import time
import uuid
from statistics import median

import pytest
from django.conf import settings
from django.test import Client

from tests.servers import AppServer, server_env

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]

FLOOD = 3000  # messages of MESSAGE_MAX_LENGTH characters: about 25 MB of frames for the frozen socket
WINDOW = 20  # sends in flight at once
BODY = "slow reader " * (settings.MESSAGE_MAX_LENGTH // 12)
# The frozen socket may cost the server its backlog bound (WS_MAX_PENDING_BYTES, 1 MiB) plus what the
# WebSocket server and the kernel hold for it; unbounded, the flood alone would add well over 25 MB.
MAX_GROWTH_BYTES = 12 * 1024 * 1024


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class FrozenTab:
    """A WebSocket client on a bare socket: handshake, frames until `hello`, then no reading at all."""

    def __init__(self, server: AppServer, cookie: str):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {server.url}\r\nCookie: {cookie}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self._recv()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def frame(self) -> tuple[int, bytes]:
        """The next frame from the server (unmasked, unfragmented): (opcode, payload)."""
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._take(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._take(8))
        return first & 0x0F, self._take(size)

    def wait_hello(self) -> None:
        while True:
            opcode, payload = self.frame()
            if opcode == 1 and json.loads(payload)["type"] == "hello":
                return

    def drain_until_closed(self) -> int | None:
        """Read everything left; the close code if a close frame came before the connection ended."""
        self.sock.settimeout(30)
        try:
            while True:
                opcode, payload = self.frame()
                if opcode == 8:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
        except (EOFError, ConnectionResetError):
            return None
        finally:
            self.sock.close()


async def _flood(server: AppServer, sender_cookie: str, reader_cookie: str, frozen_cookie: str, conversation: int):
    from websockets.asyncio.client import connect

    def connect_as(cookie):
        return connect(
            server.ws_url, origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=10, max_size=None
        )

    async with connect_as(sender_cookie) as sender, connect_as(reader_cookie) as reader:
        for ws in (sender, reader):
            assert json.loads(await ws.recv())["type"] == "hello"
        received: dict[int, float] = {}  # seq -> when the reading tab got it
        seqs: list[int] = []

        async def read_all(count: int) -> None:
            while len(seqs) < count:
                frame = json.loads(await asyncio.wait_for(reader.recv(), 30))
                if frame["type"] == "message.new":
                    seqs.append(frame["message"]["seq"])
                    received[frame["message"]["seq"]] = time.monotonic()

        async def send_all(count: int) -> dict[int, float]:
            """Sends with WINDOW in flight; seq -> when its send left."""
            sent_at: dict[str, float] = {}
            by_seq: dict[int, float] = {}

            async def next_ack() -> None:
                while (frame := json.loads(await asyncio.wait_for(sender.recv(), 30)))["type"] != "message.ack":
                    pass
                by_seq[frame["message"]["seq"]] = sent_at[frame["client_id"]]

            for _ in range(count):
                if len(sent_at) - len(by_seq) >= WINDOW:
                    await next_ack()
                client_id = str(uuid.uuid4())
                sent_at[client_id] = time.monotonic()
                frame = {"type": "message.send", "conversation": conversation, "body": BODY, "client_id": client_id}
                await sender.send(json.dumps(frame))
            while len(by_seq) < count:
                await next_ack()
            return by_seq

        # Warm up (connections, caches, the allocator's arenas) before the baseline is taken.
        warm_sent, _ = await asyncio.gather(send_all(200), read_all(200))
        warm = median(received[seq] - at for seq, at in warm_sent.items())
        seqs.clear()
        baseline = rss_bytes(server.process.pid)

        frozen = await asyncio.to_thread(FrozenTab, server, frozen_cookie)
        await asyncio.to_thread(frozen.wait_hello)
        peak = baseline

        async def sample() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_bytes(server.process.pid))
                await asyncio.sleep(0.05)

        sampler = asyncio.ensure_future(sample())
        sent, _ = await asyncio.gather(send_all(FLOOD), read_all(FLOOD))
        sampler.cancel()
        close_code = await asyncio.to_thread(frozen.drain_until_closed)
    flood = median(received[seq] - at for seq, at in sent.items())
    return seqs, peak - baseline, close_code, (warm, flood)


def test_a_frozen_tab_costs_bounded_memory_is_dropped_and_holds_nobody_up(team, tmp_path):
    env = server_env(DEBUG=0, DJANGO_SETTINGS_MODULE="tests.ops.slow_reader_settings")
    server = AppServer(tmp_path / "server.log", env=env)
    server.start()
    try:
        seqs, growth, close_code, (warm, flood) = asyncio.run(
            _flood(
                server,
                session_cookie(team.bob),
                session_cookie(team.alice),
                session_cookie(team.alice),  # the same person in a second, frozen tab
                team.general.pk,
            )
        )
    finally:
        server.close()
    assert seqs == list(range(201, 201 + FLOOD))  # every message, once, in order, to the tab that reads
    assert growth < MAX_GROWTH_BYTES, f"the server grew by {growth / 2**20:.1f} MiB"
    assert close_code in (None, 4010)  # dropped: with 4010 if the close frame still got through
    # Held up by nobody: a reading tab waits on the server's own work, not on the frozen tab's socket.
    # Measured against the same sends before the frozen tab came, on this machine as loaded as it is now.
    assert flood < 3 * warm + 0.25, f"median delivery {flood:.3f} s with the frozen tab, {warm:.3f} s before it"
    log = server.log_tail(400)
    assert "Traceback" not in log, log[log.find("Traceback") :][:4000]
