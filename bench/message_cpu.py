"""Server CPU of one sent message, attributed to parse / access / render / store / encode / publish / deliver.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chat_cpu_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/message_cpu.py [-n 500] [--members 10] [--out bench/results/profiles/message-cpu.txt]

In process, as in production (DEBUG=0, PostgreSQL through the settings' pool, the Redis pub/sub channel layer):
``--members`` sockets of one group conversation are opened with Channels' ``WebsocketCommunicator`` (the real ASGI
application: origin check, session auth, the consumer), and ``-n`` messages are sent one after the other, senders
rotating, each waited for until its ack and every member's ``message.new`` arrived. The database must be migrated
(the script runs ``migrate``); each run adds its own users and group.

Two passes over the same number of messages, after a warm-up:

1. unprofiled: process CPU (``time.process_time``, every thread) per message: the absolute figure, which also
   includes the communicator's own (client-side) work;
2. profiled: ``cProfile`` with a per-thread CPU clock (``time.thread_time``) in the event loop's thread and in
   every socket worker thread (``messaging.realtime.workers.db_executor``), so time a thread spent waiting for a
   core on a busy machine is not counted. Shares come from this pass; categories are the cumulative CPU of the
   functions that do each job (see ``CATEGORIES``), "other" is the rest of the server's profiled CPU (asyncio,
   thread hand-offs, ASGI plumbing), and the communicator's work is left out.

The WebSocket server (uvicorn's framing and socket writes) and the kernel are not in this process: the
``rooms``/``fanout`` scenarios' server CPU covers them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess

inprocess.start("message-cpu", database_url="postgres://postgres@127.0.0.1:5432/chat_cpu_bench", redis_prefix="chatcpu")

import channels.testing.application  # noqa: E402
from asgiref.testing import ApplicationCommunicator  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from chatsite.asgi import application  # noqa: E402
from messaging.realtime import workers  # noqa: E402

# Channels' communicator turns `close_old_connections` into a no-op while it sends or waits (for tests
# that hold one transaction); a served socket's workers run it around every call. Measured as served.
channels.testing.application.ApplicationCommunicator.send_input = ApplicationCommunicator.send_input
channels.testing.application.ApplicationCommunicator.receive_output = ApplicationCommunicator.receive_output

TIMEOUT = 10

# category -> functions (file suffix, function name) whose cumulative CPU is that job. They do not nest in one
# another, except `encode` inside `store` and `deliver`, which `attribute` takes out of those.
CATEGORIES: dict[str, list[tuple[str, str]]] = {
    "parse": [
        ("messaging/realtime/frames.py", "parse"),
        ("messaging/realtime/frames.py", "whole_number"),
        ("messaging/realtime/frames.py", "client_id"),
        ("messaging/realtime/frames.py", "reply_to"),
        ("messaging/realtime/frames.py", "attachment_ids"),
        ("messaging/services.py", "clean_body"),
    ],
    "access": [
        ("messaging/access.py", "access_conversation"),
        ("messaging/services.py", "check_message_rate"),
    ],
    "render": [
        ("messaging/rendering.py", "render"),
        ("messaging/selectors.py", "mention_targets"),
    ],
    "store": [("messaging/services.py", "message_send")],  # less the jobs above and `encode` done inside it
    "encode": [("messaging/serializers.py", "message_json"), ("chatsite/sockets.py", "encode")],
    "publish": [("chatsite/sockets.py", "publish")],
    "deliver": [
        ("messaging/realtime/loop.py", "read_layer"),
        ("messaging/realtime/loop.py", "deliver"),
        ("channels_redis/pubsub.py", "_do_receiving"),
    ],
}
ORDER = ["parse", "access", "render", "store", "encode", "publish", "deliver", "other"]


# ------------------------------------------------------------------------------------------ profiling


class ThreadProfiles:
    """One cProfile per thread on the thread's own CPU clock, switched on around each piece of work."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.profiles: list[cProfile.Profile] = []
        self.active = False
        self.lock = threading.Lock()
        self.worker_cpu = 0.0  # seconds of the workers' thread CPU while not profiling

    def profile(self) -> cProfile.Profile:
        prof = getattr(self.local, "profile", None)
        if prof is None:
            prof = self.local.profile = cProfile.Profile(time.thread_time)
            with self.lock:
                self.profiles.append(prof)
        return prof

    def wrap(self, fn):
        def run(*args, **kwargs):
            if not self.active:
                start = time.thread_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    spent = time.thread_time() - start
                    with self.lock:
                        self.worker_cpu += spent
            prof = self.profile()
            prof.enable()
            try:
                return fn(*args, **kwargs)
            finally:
                prof.disable()

        return run

    def stats(self, stream) -> pstats.Stats:
        stats = pstats.Stats(self.profiles[0], stream=stream)
        for prof in self.profiles[1:]:
            stats.add(prof)
        return stats


class ProfiledExecutor(ThreadPoolExecutor):
    """The socket worker pool, with each task run under its thread's profile while profiling is on."""

    def __init__(self, profiles: ThreadProfiles, **kwargs) -> None:
        super().__init__(**kwargs)
        self.profiles = profiles

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(self.profiles.wrap(fn), *args, **kwargs)


def cumulative(stats: pstats.Stats, suffix: str, name: str, caller: tuple[str, str] | None = None) -> float:
    """Cumulative seconds of the function(s) ``name`` in a file ending with ``suffix`` (only the calls made from
    ``caller`` when given)."""
    total = 0.0
    for (filename, _line, funcname), (_cc, _nc, _tt, ct, callers) in stats.stats.items():
        if funcname != name or not filename.endswith(suffix):
            continue
        if caller is None:
            total += ct
            continue
        for (cfile, _cline, cname), value in callers.items():
            if cname == caller[1] and cfile.endswith(caller[0]):
                total += value[3]
    return total


def attribute(stats: pstats.Stats, harness: float) -> dict[str, float]:
    """Seconds per category; ``other`` is the server's profiled CPU not in any of them."""
    seconds = {cat: sum(cumulative(stats, *fn) for fn in fns) for cat, fns in CATEGORIES.items()}
    # message_send runs the parse / access / render steps and the message's and event's encoding inside.
    inner = seconds["parse"] - sum(
        cumulative(stats, *fn) for fn in CATEGORIES["parse"] if fn[0].startswith("messaging/realtime/")
    )
    inner += seconds["access"] + seconds["render"]
    inner += cumulative(stats, "messaging/serializers.py", "message_json", ("messaging/services.py", "message_send"))
    inner += cumulative(stats, "chatsite/sockets.py", "encode", ("messaging/events.py", "conversation_event"))
    seconds["store"] -= inner
    # deliver's `unread` frames are encoded by send_frame, which the ack uses too: that share stays in `encode`.
    seconds["deliver"] -= cumulative(
        stats, "messaging/realtime/consumer.py", "send_frame", ("consumer.py", "_send_unread")
    )
    total = sum(st[2] for st in stats.stats.values()) - harness
    seconds["other"] = total - sum(seconds.values())
    return {cat: seconds[cat] for cat in ORDER}


# ---------------------------------------------------------------------------------------------- run


def prepare(members: int) -> dict:
    call_command("migrate", verbosity=0, interactive=False)
    out = io.StringIO()
    prefix = f"cpu{int(time.time()) % 1_000_000}"
    call_command(
        "bench_sessions", "--force", "--prefix", prefix, "--groups", "1", "--members", str(members), stdout=out
    )
    return json.loads(out.getvalue())


async def open_sockets(plan: dict) -> list[WebsocketCommunicator]:
    sockets = []
    for client in plan["clients"]:
        headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", client["cookie"].encode())]
        ws = WebsocketCommunicator(application, "/ws/", headers=headers)
        connected, _ = await ws.connect(timeout=TIMEOUT)
        if not connected:
            raise RuntimeError("socket refused")
        while (await ws.receive_json_from(timeout=TIMEOUT))["type"] != "hello":
            pass
        sockets.append(ws)
    return sockets


async def wait_for(ws: WebsocketCommunicator, match) -> None:
    while not match(await ws.receive_json_from(timeout=TIMEOUT)):
        pass


# What each message says: a little Markdown, or (--plain) none (rendering's plain-text path).
BODY = "message {k} with a **little** formatting"
PLAIN_BODY = "message {k} with no formatting"


async def drive(sockets: list[WebsocketCommunicator], conversation: int, start: int, count: int) -> None:
    """Send ``count`` messages one at a time; each is done when its ack and every member's copy arrived."""
    for k in range(start, start + count):
        sender = sockets[k % len(sockets)]
        client_id, body = str(uuid.uuid4()), BODY.format(k=k)
        await sender.send_json_to(
            {"type": "message.send", "conversation": conversation, "body": body, "client_id": client_id}
        )
        await wait_for(sender, lambda f, c=client_id: f["type"] == "message.ack" and f["client_id"] == c)
        for ws in sockets:
            await wait_for(ws, lambda f, c=body: f["type"] == "message.new" and f["message"]["body"] == c)


async def main_async(args: argparse.Namespace, plan: dict, profiles: ThreadProfiles) -> dict:
    sockets = await open_sockets(plan)
    conversation = plan["conversations"][0]
    await drive(sockets, conversation, 0, args.warmup)

    cpu0, wall0, worker0 = time.process_time(), time.perf_counter(), profiles.worker_cpu
    await drive(sockets, conversation, args.warmup, args.messages)
    plain_cpu, plain_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    plain_worker = profiles.worker_cpu - worker0

    loop_profile = profiles.profile()
    profiles.active = True
    cpu0 = time.process_time()
    loop_profile.enable()
    await drive(sockets, conversation, args.warmup + args.messages, args.messages)
    loop_profile.disable()
    profiled_cpu = time.process_time() - cpu0
    profiles.active = False
    for ws in sockets:
        await ws.disconnect()
    return {
        "plain_cpu_s": plain_cpu,
        "plain_wall_s": plain_wall,
        "plain_worker_s": plain_worker,
        "profiled_cpu_s": profiled_cpu,
    }


def report(args: argparse.Namespace, figures: dict, profiles: ThreadProfiles) -> str:
    out = io.StringIO()
    stats = profiles.stats(out)
    harness = cumulative(stats, "bench/message_cpu.py", "drive")
    seconds = attribute(stats, harness)
    server = sum(seconds.values())
    n = args.messages
    lines = [
        f"# bench/message_cpu.py -n {n} --members {args.members}{' --plain' * args.plain} (warm-up {args.warmup})",
        f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, python {sys.version.split()[0]}, "
        f"database {settings.DATABASES['default']['ENGINE']}, layer {settings.CHANNEL_LAYERS['default']['BACKEND']}",
        f"process CPU per message, unprofiled (server + communicator): {figures['plain_cpu_s'] / n * 1000:.3f} ms",
        f"  of which the socket workers' threads (services, unprofiled): {figures['plain_worker_s'] / n * 1000:.3f} ms",
        f"process CPU per message, profiled: {figures['profiled_cpu_s'] / n * 1000:.3f} ms "
        f"(profiler overhead x{figures['profiled_cpu_s'] / figures['plain_cpu_s']:.2f})",
        f"server CPU per message in the profile: {server / n * 1000:.3f} ms; communicator (left out): "
        f"{harness / n * 1000:.3f} ms",
        "",
        f"{'category':<10}{'share':>8}{'ms/msg profiled':>18}{'ms/msg scaled':>16}",
    ]
    # Scaled: the share applied to the unprofiled server CPU (process CPU less the communicator's share).
    plain_server = figures["plain_cpu_s"] * server / (server + harness)
    for cat in ORDER:
        share = seconds[cat] / server
        lines.append(f"{cat:<10}{share:>8.1%}{seconds[cat] / n * 1000:>18.3f}{share * plain_server / n * 1000:>16.3f}")
    lines += ["", "## the functions behind each category (cumulative, nested ones included)", ""]
    for cat, fns in CATEGORIES.items():
        for suffix, name in fns:
            ms = cumulative(stats, suffix, name) / n * 1000
            lines.append(f"{cat:<10}{suffix + ':' + name:<52}{ms:>9.3f} ms/msg profiled")
    lines += ["", "## top functions by own CPU (all profiled threads)", ""]
    text = "\n".join(lines) + "\n"
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(60)
    return text + out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--messages", type=int, default=500, help="messages per pass (default 500)")
    parser.add_argument("--members", type=int, default=10, help="sockets in the conversation (default 10)")
    parser.add_argument("--warmup", type=int, default=50, help="messages before the measured passes")
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument("--plain", action="store_true", help="bodies without Markdown (default: a little)")
    args = parser.parse_args(argv)
    global BODY
    if args.plain:
        BODY = PLAIN_BODY

    settings.MESSAGE_RATE_LIMIT = 10**9  # one client sends them all, faster than a person may
    settings.WS_FRAME_RATE, settings.WS_FRAME_BURST = 10**6, 10**6
    profiles = ThreadProfiles()
    workers.db_executor = ProfiledExecutor(
        profiles, max_workers=settings.WS_DB_THREADS, thread_name_prefix="ws-db-profiled"
    )
    plan = prepare(args.members)
    figures = asyncio.run(main_async(args, plan, profiles))
    text = report(args, figures, profiles)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text[: text.index("## top functions")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
