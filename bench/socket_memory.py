"""Python memory held per idle socket by the app's own stack (middleware, consumer, channel layer), in-process.

    .venv/bin/python bench/socket_memory.py [-n 1000]
    DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/socket_memory.py

The capacity scenario measures the server process's RSS per socket, which mixes the WebSocket server's own
objects (uvicorn or daphne) with the app's. This script opens N sockets through the same ASGI application with
Channels' WebsocketCommunicator (no HTTP server at all), each logged in with its own session cookie, waits for
every `hello`, and compares tracemalloc snapshots taken before and after. The same is done for a bare ASGI app
that accepts, sends one frame and waits (the test harness's own queues and task, which a real server has in its
own form too); the difference is what the app keeps per idle socket. The capacity scenario's RSS per socket minus
that is the WebSocket server's share (plus allocator overhead, which tracemalloc does not see).

Without DATABASE_URL it migrates a throwaway SQLite file under bench/results/tmp/ and uses the in-memory channel
layer; with DATABASE_URL / REDIS_URL it uses those (the database must be a bench one: users and sessions are
added with `manage.py bench_sessions`). Not a test: the numbers depend on the Python build and the libraries.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import json
import os
import sys
import tracemalloc
import uuid
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = ROOT / "bench" / "results" / "tmp"
TMP.mkdir(parents=True, exist_ok=True)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{TMP / 'socket_memory.sqlite3'}")
os.environ.setdefault("SECRET_KEY", "socket-memory-bench")
os.environ["DEBUG"] = "0"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from channels.testing import WebsocketCommunicator  # noqa: E402
from django.core.management import call_command  # noqa: E402

from chatsite.asgi import application  # noqa: E402


def make_sessions(count: int) -> list[str]:
    """`count` logged-in users (groups of 10) through manage.py bench_sessions; their session keys."""
    call_command("migrate", verbosity=0)
    out = io.StringIO()
    with redirect_stdout(out):
        call_command(
            "bench_sessions", force=True, prefix=f"mem{uuid.uuid4().hex[:8]}", groups=-(-count // 10), members=10
        )
    plan = json.loads(out.getvalue())
    return [client["cookie"].split("=", 1)[1] for client in plan["clients"]][:count]


async def bare_app(scope, receive, send) -> None:
    """Accept, send one frame, then wait for the disconnect: the floor any socket costs in this harness."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": '{"type":"hello"}'})
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def open_socket(session_key: str, app=application) -> WebsocketCommunicator:
    headers = [
        (b"host", b"127.0.0.1"),  # the origin check compares the Origin with the Host
        (b"cookie", f"sessionid={session_key}".encode()),
        (b"origin", b"http://127.0.0.1"),
    ]
    socket = WebsocketCommunicator(app, "/ws/", headers=headers)
    connected, _ = await socket.connect(timeout=10)
    if not connected:
        raise RuntimeError("the handshake was refused")
    hello = json.loads(await socket.receive_from(timeout=10))
    assert hello["type"] == "hello", hello
    return socket


async def drain(sockets: list[WebsocketCommunicator]) -> None:
    """Read what followed `hello` (presence frames), so no frame waits in a queue during the snapshot."""
    for socket in sockets:
        while not await socket.receive_nothing(timeout=0.01):
            await socket.receive_from()


async def measure(keys: list[str], app) -> tuple[int, Counter[str]]:
    """Bytes traced per package while `keys` sockets are open and idle (after 10 warm-up sockets)."""
    warm = [await open_socket(key, app) for key in keys[:10]]  # first-use allocations (caches, pools)
    await drain(warm)
    gc.collect()
    tracemalloc.start(1)  # where each block was allocated: one frame
    before = tracemalloc.take_snapshot()
    sockets = [await open_socket(key, app) for key in keys[10:]]
    await drain(sockets)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    by_package: Counter[str] = Counter()
    for stat in after.compare_to(before, "lineno"):
        frame = stat.traceback[0]
        by_package[_package(frame.filename)] += stat.size_diff
        by_package[f"line {_package(frame.filename)}/{Path(frame.filename).name}:{frame.lineno}"] += stat.size_diff
    for socket in warm + sockets:
        await socket.disconnect()
    return len(sockets), by_package


async def main(count: int, top: int) -> dict:
    keys = await asyncio.to_thread(make_sessions, count)
    opened, bare = await measure(keys, bare_app)
    _opened, app = await measure(keys, application)

    def kib(size: int) -> float:
        return round(size / opened / 1024, 2)

    extra = app.copy()
    extra.subtract(bare)
    packages = Counter({name: size for name, size in extra.items() if not name.startswith("line ")})
    lines = Counter({name[5:]: size for name, size in extra.items() if name.startswith("line ")})

    def total(counter: Counter[str]) -> int:
        return sum(size for name, size in counter.items() if not name.startswith("line "))

    return {
        "sockets": opened,
        "database": django.db.connection.vendor,
        "channel_layer": type(_layer()).__name__,
        "bare_app_kib_per_socket": kib(total(bare)),
        "app_kib_per_socket": kib(total(app)),
        "app_minus_bare_kib_per_socket": kib(total(app) - total(bare)),
        "app_minus_bare_by_package": {name: kib(size) for name, size in packages.most_common(top) if size > 0},
        "app_minus_bare_by_line": {name: kib(size) for name, size in lines.most_common(top) if size > 0},
    }


def _layer():
    from channels.layers import get_channel_layer

    return get_channel_layer()


def _package(filename: str) -> str:
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1]
    try:
        return "app: " + str(path.relative_to(ROOT).parts[0])
    except ValueError:
        return "stdlib: " + path.name


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="sockets to open (default 1000)")
    parser.add_argument("--top", type=int, default=12, help="packages to list")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n + 10, args.top)), indent=2))
