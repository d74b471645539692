"""Server CPU, queries and Redis commands of one authenticated socket connect (up to `hello`) and disconnect.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chat_connect_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/connect_cpu.py [-n 1000] [--groups-per-user 3] [--concurrency 10] \\
        [--profile bench/results/profiles/connect-cpu.txt]

In process, as in production (DEBUG=0, PostgreSQL through the settings' pool, the Redis pub/sub channel layer
and Redis cache): ``-n`` users, each a member of ``--groups-per-user`` groups of ``--group-size`` members (a few
messages in each, so the cursors have unread counts), each with a logged-in session. Their sockets are opened
through the real ASGI application (origin check, session auth, the consumer) with Channels'
``WebsocketCommunicator``, ``--concurrency`` at a time, each waited for until its ``hello``; then all are
closed, the same number at a time. Sessions are stored as a login stores them (with the sessions page's
row). The database must exist (the script runs ``migrate``); each run adds its
own users and groups.

Per connect and per disconnect:

- process CPU (``time.process_time``, every thread), unprofiled: the absolute figure, which also includes the
  communicator's own (client-side) work;
- SQL statements (every ``execute`` through Django's cursor wrapper, in any thread);
- Redis commands and round trips, counted in the clients (redis-py, sync and asyncio: the presence store, the
  cache and the channel layer), so other users of the same Redis server do not count.

``--concurrency`` equal to ``-n`` opens every socket at once, as a reconnect storm does: the ``hello`` line
then shows when the sockets were back (in arrival order at the server's connect rate, or all together at the
end), and ``--in-flight`` sets how many handshakes the server works on at once.

With ``--profile FILE``, a second pass of connects and disconnects runs under ``cProfile`` with a per-thread CPU
clock (``time.thread_time``) in the event loop's thread and every socket worker thread (as ``message_cpu.py``);
FILE gets the profiled CPU per connect and disconnect (the communicator's work, in the loop's thread, is in
it) and the top functions by own and cumulative CPU. The WebSocket server (uvicorn's HTTP parsing, handshake
and framing) and the kernel are not in this process: the ``storm`` scenario's server CPU covers them.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess

inprocess.start(
    "connect-cpu", database_url="postgres://postgres@127.0.0.1:5432/chat_connect_bench", redis_prefix="chatconnect"
)

import redis  # noqa: E402
import redis.asyncio.connection  # noqa: E402
import redis.connection  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db.backends import utils as db_utils  # noqa: E402

from bench.message_cpu import ProfiledExecutor, ThreadProfiles  # noqa: E402
from chatsite.asgi import application  # noqa: E402
from messaging.realtime import workers  # noqa: E402

TIMEOUT = 30


# ------------------------------------------------------------------------------------------ counting


class Counts:
    """SQL statements, Redis commands and Redis round trips, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queries = self.redis_commands = self.redis_round_trips = 0

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> tuple[int, int, int]:
        return self.queries, self.redis_commands, self.redis_round_trips


COUNTS = Counts()


def install_counters() -> None:
    """Count at the narrowest common points: Django's cursor wrapper, redis-py's command packing and sends."""

    def counting(cls, method: str, name: str, many=lambda args: 1) -> None:
        original = getattr(cls, method)

        def wrapper(self, *args, **kwargs):
            COUNTS.add(name, many(args))
            return original(self, *args, **kwargs)

        setattr(cls, method, wrapper)

    def counting_async(cls, method: str, name: str) -> None:
        original = getattr(cls, method)

        async def wrapper(self, *args, **kwargs):
            COUNTS.add(name)
            return await original(self, *args, **kwargs)

        setattr(cls, method, wrapper)

    counting(db_utils.CursorWrapper, "execute", "queries")
    counting(db_utils.CursorWrapper, "executemany", "queries")
    # A command alone goes through `send_command`; a pipeline's are packed at once by `pack_commands`. Every
    # write to the server is one `send_packed_command`: a round trip (replies are read in the same turn).
    for module in (redis.connection, redis.asyncio.connection):
        cls = module.Connection
        owner = lambda name, cls=cls: next(k for k in cls.__mro__ if name in vars(k))  # noqa: E731
        counting(owner("send_command"), "send_command", "redis_commands")
        counting(owner("pack_commands"), "pack_commands", "redis_commands", lambda args: len(args[0]))
    counting(
        next(k for k in redis.connection.Connection.__mro__ if "send_packed_command" in vars(k)),
        "send_packed_command",
        "redis_round_trips",
    )
    counting_async(
        next(k for k in redis.asyncio.connection.Connection.__mro__ if "send_packed_command" in vars(k)),
        "send_packed_command",
        "redis_round_trips",
    )


# ---------------------------------------------------------------------------------------------- setup


def prepare(users: int, groups_per_user: int, group_size: int, messages: int) -> list[bytes]:
    """``users`` users, each in ``groups_per_user`` groups of ``group_size``, with sessions: their cookies."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts.models import User
    from accounts.names import search_name
    from accounts.services import session_record
    from groups import services as group_services
    from messaging import services as messaging_services
    from messaging.selectors import default_conversation

    call_command("migrate", verbosity=0, interactive=False)
    prefix = f"conn{int(time.time()) % 1_000_000}"
    people = [User(username=f"{prefix}-{k}", email=f"{prefix}-{k}@bench.invalid") for k in range(users)]
    for user in people:
        user.set_unusable_password()
        user.search_name = search_name(user.username, "")
    people = User.objects.bulk_create(people)
    size = min(group_size, users)
    # Layer L splits the users, shifted by L * size / groups_per_user, into groups of `size`: everyone is in
    # `groups_per_user` groups, each time with partly different people.
    for layer in range(groups_per_user):
        shift = layer * size // groups_per_user
        for start in range(0, users, size):
            members = [people[(start + shift + i) % users] for i in range(size)]
            group = group_services.group_create(
                actor=members[0], name=f"{prefix} {layer}.{start}", member_usernames=[u.username for u in members[1:]]
            )
            conversation = default_conversation(group)
            for k in range(messages):
                messaging_services.message_send(
                    actor=members[k % size], conversation_id=conversation.pk, body=f"message {k}", check_rate=False
                )
    cookies = []
    session_store = __import__(settings.SESSION_ENGINE, fromlist=["SessionStore"]).SessionStore
    for user in people:
        store = session_store()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        # What a login through the form adds (accounts.apps: on `user_logged_in`): the sessions page's row.
        session_record(session_key=store.session_key, user=user, user_agent="bench", address="127.0.0.1")
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode())
    return cookies


# ------------------------------------------------------------------------------------------------ run


async def connect(cookie: bytes) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie)]
    ws = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await ws.connect(timeout=TIMEOUT)
    if not connected:
        raise RuntimeError("socket refused")
    frame = await ws.receive_json_from(timeout=TIMEOUT)
    if frame["type"] != "hello":
        raise RuntimeError(f"first frame {frame['type']}, not hello")
    HELLO_AT.append(time.perf_counter())
    return ws


HELLO_AT: list[float] = []  # when each socket of the current pass had its `hello`


async def in_batches(items, concurrency: int, func) -> list:
    out = []
    for start in range(0, len(items), concurrency):
        out += await asyncio.gather(*(func(item) for item in items[start : start + concurrency]))
    return out


async def disconnect(ws: WebsocketCommunicator) -> None:
    await ws.disconnect()


async def settle() -> None:
    """Let clean-ups finish (the layer's unsubscribes, presence) before the next measurement."""
    for _ in range(20):
        await asyncio.sleep(0.01)


async def one_pass(cookies: list[bytes], concurrency: int) -> dict:
    """Connect every cookie's socket, then disconnect them all: CPU, wall time and counts of each half."""
    figures = {}
    HELLO_AT.clear()
    c0, w0, n0 = time.process_time(), time.perf_counter(), COUNTS.snapshot()
    sockets = await in_batches(cookies, concurrency, connect)
    c1, w1, n1 = time.process_time(), time.perf_counter(), COUNTS.snapshot()
    figures["connect"] = {"cpu_s": c1 - c0, "wall_s": w1 - w0, "counts": [b - a for a, b in zip(n0, n1, strict=True)]}
    back = sorted(at - w0 for at in HELLO_AT)
    figures["hello_s"] = {q: back[min(len(back) - 1, int(len(back) * q / 100))] for q in (10, 50, 90, 100)}
    await settle()
    c0, w0, n0 = time.process_time(), time.perf_counter(), COUNTS.snapshot()
    await in_batches(sockets, concurrency, disconnect)
    await settle()
    c1, w1, n1 = time.process_time(), time.perf_counter(), COUNTS.snapshot()
    figures["disconnect"] = {
        "cpu_s": c1 - c0,
        "wall_s": w1 - w0,
        "counts": [b - a for a, b in zip(n0, n1, strict=True)],
    }
    return figures


async def main_async(args: argparse.Namespace, cookies: list[bytes], profiles: ThreadProfiles) -> dict:
    warm = cookies[: min(len(cookies), max(args.concurrency, 50))]
    await one_pass(warm, args.concurrency)  # warm-up: connections in the pool, code paths, caches
    result = {"plain": await one_pass(cookies, args.concurrency)}
    if args.profile:
        loop_profile = profiles.profile()
        profiles.active = True
        loop_profile.enable()
        result["profiled"] = await one_pass(cookies, args.concurrency)
        loop_profile.disable()
        profiles.active = False
    return result


def report(args: argparse.Namespace, result: dict) -> str:
    n = args.users
    lines = [
        f"# bench/connect_cpu.py -n {n} --groups-per-user {args.groups_per_user} --group-size {args.group_size} "
        f"--concurrency {args.concurrency}",
        f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, python {sys.version.split()[0]}, "
        f"database {settings.DATABASES['default']['ENGINE']}, layer {settings.CHANNEL_LAYERS['default']['BACKEND']}, "
        f"session engine {settings.SESSION_ENGINE}",
    ]
    for half in ("connect", "disconnect"):
        f = result["plain"][half]
        queries, commands, trips = (c / n for c in f["counts"])
        lines.append(
            f"{half:<10} process CPU {f['cpu_s'] / n * 1000:7.3f} ms, wall {f['wall_s'] / n * 1000:7.3f} ms "
            f"({n / f['wall_s']:6.0f}/s at concurrency {args.concurrency}); per socket: {queries:.2f} queries, "
            f"{commands:.2f} Redis commands in {trips:.2f} round trips"
        )
    back = result["plain"]["hello_s"]
    lines.append(
        f"hello, seconds after the first connect: p10 {back[10]:.3f}, p50 {back[50]:.3f}, p90 {back[90]:.3f}, "
        f"last {back[100]:.3f} (WS_HANDSHAKES_IN_FLIGHT {settings.WS_HANDSHAKES_IN_FLIGHT})"
    )
    if "profiled" in result:
        for half in ("connect", "disconnect"):
            f = result["profiled"][half]
            lines.append(
                f"{half:<10} profiled process CPU {f['cpu_s'] / n * 1000:7.3f} ms "
                f"(x{f['cpu_s'] / result['plain'][half]['cpu_s']:.2f})"
            )
    return "\n".join(lines) + "\n"


def profile_text(profiles: ThreadProfiles, n: int) -> str:
    out = io.StringIO()
    stats = profiles.stats(out)
    total = sum(entry[2] for entry in stats.stats.values())
    out.write(f"CPU per connect + disconnect in the profile, every profiled thread: {total / n * 1000:.3f} ms\n\n")
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(80)
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--users", type=int, default=1000, help="users, one socket each (default 1000)")
    parser.add_argument("--groups-per-user", type=int, default=3, help="groups each user is in (default 3)")
    parser.add_argument("--group-size", type=int, default=20, help="members per group (default 20)")
    parser.add_argument("--messages", type=int, default=5, help="messages per group conversation (default 5)")
    parser.add_argument("--concurrency", type=int, default=10, help="connects (and closes) in flight (default 10)")
    parser.add_argument("--profile", type=Path, help="profile a second pass; write the report and profile here")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--in-flight", type=int, help="WS_HANDSHAKES_IN_FLIGHT for this run (with --concurrency N: a storm of N)"
    )
    args = parser.parse_args(argv)
    if args.in_flight:
        settings.WS_HANDSHAKES_IN_FLIGHT = args.in_flight

    settings.WS_MAX_SOCKETS_PER_USER = max(settings.WS_MAX_SOCKETS_PER_USER, 2)
    profiles = ThreadProfiles()
    workers.db_executor = ProfiledExecutor(
        profiles, max_workers=settings.WS_DB_THREADS, thread_name_prefix="ws-db-profiled"
    )
    cookies = prepare(args.users, args.groups_per_user, args.group_size, args.messages)
    install_counters()
    result = asyncio.run(main_async(args, cookies, profiles))
    text = report(args, result)
    print(text, end="")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **result}, indent=1))
    if args.profile:
        args.profile.parent.mkdir(parents=True, exist_ok=True)
        profiled = profile_text(profiles, args.users)
        print(profiled.splitlines()[0])
        args.profile.write_text(text + "\n" + profiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
