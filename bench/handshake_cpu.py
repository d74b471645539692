"""The WebSocket server's own costs under `chatsite.serve`'s options, per `ws` implementation: handshake CPU,
memory per idle socket and CPU per frame sent.

    .venv/bin/python bench/handshake_cpu.py [-n 2000] [--concurrency 100] [--ws websockets,websockets-sansio,wsproto]
    .venv/bin/python bench/handshake_cpu.py --idle 5000 --fanout 100x300 --ws websockets,websockets-sansio,granian

What a socket costs the WebSocket server before the app does anything: uvicorn with the options of
`chatsite/serve.py` (httptools, uvloop, no compression, the same sizes and pings), serving a trivial ASGI
app that accepts and sends one short frame. ``-n`` sockets are opened (``--concurrency`` at a time, each
waited for until its frame) and closed; the server process's CPU (user + system, from /proc) is divided by
``-n``. `bench/connect_cpu.py` measures the app's side of a connect; the two add up to a connect's server CPU.

``--idle N`` then opens N sockets and leaves them idle: the server's RSS grown, per socket (the app keeps a
list entry per socket, nothing else). ``--fanout SxF`` has one socket ask the app to send F messages to S
sockets, each as the chat sends a message to a recipient: a ~300-byte `message.new` frame, then a short
`unread` one (2 x S x F frames in all); server CPU per frame sent, and each client checks it got every frame
in order. ``granian`` in ``--ws`` runs the same app under Granian (ASGI, one worker, uvloop) instead: CPU and
RSS are then summed over its processes.
The server runs pinned to core 0 and the client to core 1 when `taskset` and two cores are there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = """
import asyncio, json

OPEN = []  # the send callables of the open sockets, for the fan-out
BODY = "x" * 200

async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": '{"type":"hello"}'})
    OPEN.append(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            sockets, count = map(int, message["text"].split("x"))
            for seq in range(1, count + 1):
                new = json.dumps({"type": "message.new", "conversation": 1, "message": {"seq": seq, "body": BODY}})
                unread = '{"type":"unread","conversation":1,"unread":%d,"mentions":0}' % seq
                for recipient in OPEN[:sockets]:
                    await recipient({"type": "websocket.send", "text": new})
                    await recipient({"type": "websocket.send", "text": unread})
    finally:
        OPEN.remove(send)
"""

UVICORN = """
import sys, warnings
warnings.filterwarnings("ignore")
import uvicorn
from chatsite import serve
from bench_ws_app import app

options = serve.server_options(serve.parse_args(["--port", sys.argv[1]]))
ws = sys.argv[2]
options.update(ws=serve.WS_PROTOCOLS.get(ws, ws), log_config=None, access_log=False, log_level="warning")
uvicorn.run(app, **options)
"""


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += tree(int(child))
    return pids


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for each in tree(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_kib(pid: int) -> int:
    total = 0
    for each in tree(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def open_sockets(url: str, n: int, concurrency: int) -> list:
    from websockets.asyncio.client import connect

    sem = asyncio.Semaphore(concurrency)
    sockets = []

    async def one() -> None:
        async with sem:
            ws = await connect(url, compression=None, open_timeout=60, max_size=None)
            await ws.recv()
            sockets.append(ws)

    await asyncio.gather(*(one() for _ in range(n)))
    return sockets


async def open_and_close(url: str, n: int, concurrency: int) -> None:
    sockets = await open_sockets(url, n, concurrency)
    await asyncio.gather(*(ws.close() for ws in sockets))


async def idle(url: str, n: int, concurrency: int, pid: int) -> float:
    """KiB of server RSS per socket while `n` sockets are open and idle."""
    before = rss_kib(pid)
    sockets = await open_sockets(url, n, concurrency)
    await asyncio.sleep(2)
    grown = rss_kib(pid) - before
    await asyncio.gather(*(ws.close() for ws in sockets))
    return grown / n


async def fanout(url: str, recipients: int, count: int, pid: int) -> tuple[float, int]:
    """Server CPU ms per frame sent, and frames missing or out of order (should be 0)."""
    sockets = await open_sockets(url, recipients, 50)
    await asyncio.sleep(0.5)
    bad = 0

    async def read(ws) -> None:
        nonlocal bad
        for seq in range(1, count + 1):
            new, unread = json.loads(await ws.recv()), json.loads(await ws.recv())
            if new["message"]["seq"] != seq or unread["unread"] != seq:
                bad += 1

    cpu0 = cpu_seconds(pid)
    await sockets[0].send(f"{recipients}x{count}")
    await asyncio.wait_for(asyncio.gather(*(read(ws) for ws in sockets)), 300)
    cpu = cpu_seconds(pid) - cpu0
    await asyncio.gather(*(ws.close() for ws in sockets))
    return cpu / (2 * recipients * count) * 1000, bad


def start(ws: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings", "SECRET_KEY": "handshake-bench", "DEBUG": "0"}
    env.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    tmp = ROOT / "bench" / "results" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "bench_ws_app.py").write_text(APP)
    env["PYTHONPATH"] = f"{tmp}{os.pathsep}{ROOT}"
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") and os.cpu_count() >= 2 else []
    if ws == "granian":
        from chatsite import serve

        command = [
            str(Path(sys.executable).with_name("granian")), "--interface", "asgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", "1", "--loop", "uvloop", "--backlog", str(serve.BACKLOG),
            "--log-level", "warning", "--no-access-log", "bench_ws_app:app",
        ]  # fmt: skip
    else:
        command = [sys.executable, "-c", UVICORN, str(port), ws]
    return subprocess.Popen([*pin, *command], cwd=ROOT, env=env)


def measure(ws: str, args: argparse.Namespace) -> dict:
    port = free_port()
    proc = start(ws, port)
    result = {"ws": ws}
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/ws/"
        asyncio.run(open_and_close(url, min(args.n, 200), args.concurrency))  # warm-up
        cpu0, wall0 = cpu_seconds(proc.pid), time.perf_counter()
        asyncio.run(open_and_close(url, args.n, args.concurrency))
        cpu, wall = cpu_seconds(proc.pid) - cpu0, time.perf_counter() - wall0
        result.update(cpu_ms=cpu / args.n * 1000, per_s=args.n / wall)
        if args.idle:
            result["idle_kib"] = asyncio.run(idle(url, args.idle, args.concurrency, proc.pid))
        if args.fanout:
            recipients, count = map(int, args.fanout.split("x"))
            result["frame_us"], result["bad"] = asyncio.run(fanout(url, recipients, count, proc.pid))
            result["frame_us"] *= 1000
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="sockets opened and closed (default 2000)")
    parser.add_argument("--concurrency", type=int, default=100, help="connects in flight (default 100)")
    parser.add_argument("--ws", default="websockets,websockets-sansio", help="uvicorn `ws` implementations, or granian")
    parser.add_argument("--idle", type=int, default=0, help="also: server RSS per idle socket with this many open")
    parser.add_argument("--fanout", metavar="SxF", help="also: CPU per frame, F messages to S sockets (e.g. 100x300)")
    args = parser.parse_args(argv)
    if shutil.which("taskset") and os.cpu_count() >= 2:
        os.sched_setaffinity(0, {1})
    for ws in args.ws.split(","):
        result = measure(ws, args)
        line = (
            f"{ws:<20} server CPU per socket opened and closed {result['cpu_ms']:.3f} ms "
            f"({result['per_s']:.0f} sockets/s, n={args.n}, concurrency {args.concurrency})"
        )
        if "idle_kib" in result:
            line += f"; RSS per idle socket {result['idle_kib']:.2f} KiB ({args.idle} open)"
        if "frame_us" in result:
            line += f"; CPU per frame sent {result['frame_us']:.2f} µs ({args.fanout}, {result['bad']} out of order)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
