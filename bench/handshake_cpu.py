"""Server CPU of a bare WebSocket handshake under `chatsite.serve`'s uvicorn options, per `ws` implementation.

    .venv/bin/python bench/handshake_cpu.py [-n 2000] [--concurrency 100] [--ws websockets,websockets-sansio]

What a connect costs the WebSocket server before the app does anything: uvicorn with the options of
`chatsite/serve.py` (httptools, uvloop, no compression, the same sizes and pings), serving a trivial ASGI
app that accepts and sends one short frame. ``-n`` sockets are opened (``--concurrency`` at a time, each
waited for until its frame) and closed; the server process's CPU (user + system, from /proc) is divided by
``-n``. `bench/connect_cpu.py` measures the app's side of a connect; the two add up to a connect's server CPU.
The server runs pinned to core 0 and the client to core 1 when `taskset` and two cores are there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import sys, warnings
warnings.filterwarnings("ignore")
import uvicorn
from chatsite import serve

async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": '{"type":"hello"}'})
    while (await receive())["type"] != "websocket.disconnect":
        pass

options = serve.server_options(serve.parse_args(["--port", sys.argv[1]]))
options.update(ws=sys.argv[2], log_config=None, access_log=False, log_level="warning")
uvicorn.run(app, **options)
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def open_and_close(url: str, n: int, concurrency: int) -> None:
    from websockets.asyncio.client import connect

    sem = asyncio.Semaphore(concurrency)
    sockets = []

    async def one() -> None:
        async with sem:
            ws = await connect(url, compression=None, open_timeout=30)
            await ws.recv()
            sockets.append(ws)

    await asyncio.gather(*(one() for _ in range(n)))
    await asyncio.gather(*(ws.close() for ws in sockets))


def measure(ws: str, n: int, concurrency: int) -> dict:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings", "SECRET_KEY": "handshake-bench", "DEBUG": "0"}
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") and os.cpu_count() >= 2 else []
    proc = subprocess.Popen([*pin, sys.executable, "-c", SERVER, str(port), ws], cwd=ROOT, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/ws/"
        asyncio.run(open_and_close(url, min(n, 200), concurrency))  # warm-up
        cpu0, wall0 = cpu_seconds(proc.pid), time.perf_counter()
        asyncio.run(open_and_close(url, n, concurrency))
        cpu, wall = cpu_seconds(proc.pid) - cpu0, time.perf_counter() - wall0
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return {"ws": ws, "cpu_ms": cpu / n * 1000, "per_s": n / wall}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="sockets opened and closed (default 2000)")
    parser.add_argument("--concurrency", type=int, default=100, help="connects in flight (default 100)")
    parser.add_argument("--ws", default="websockets,websockets-sansio", help="uvicorn `ws` implementations")
    args = parser.parse_args(argv)
    if shutil.which("taskset") and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {1})
    for ws in args.ws.split(","):
        result = measure(ws, args.n, args.concurrency)
        print(
            f"{ws:<20} server CPU per socket opened and closed {result['cpu_ms']:.3f} ms "
            f"({result['per_s']:.0f} sockets/s, n={args.n}, concurrency {args.concurrency})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
