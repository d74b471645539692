"""Server CPU per request of the conversation page and the history endpoint, measured in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chat_pages_bench .venv/bin/python bench/page_cpu.py [-n 200]

Django runs as in production (DEBUG=0, the settings' connection pool), against the database named by
DATABASE_URL, which must be migrated (`manage.py migrate`). The first run seeds it: a group of 20 members whose
"general" conversation holds 60 messages (some edited, one deleted, some with links), and about 20 other
conversations for the viewer (topics of the group and direct ones, each with messages), so the sidebar has a
realistic size. Later runs reuse that data.

Each scenario sends its requests through Django's ASGI handler (django.test.AsyncClient: the same middleware
adaptation and sync/async hops as under daphne) or, with --wsgi, the WSGI handler (django.test.Client), and
reports CPU milliseconds per request (time.process_time, every thread of the process) and queries per request
(counted in a separate pass, since counting has a cost of its own):

- page: the conversation page, already read (what a reload or a bench client sees);
- page-unread: the page with new messages since the viewer's last visit (the read marker moves);
- history: GET /chats/<id>/messages/ (the latest 50, JSON).

With --profile FILE, one scenario (default `page`) is profiled after its unprofiled run: cProfile on each
thread's own CPU clock (`time.thread_time`), in the event loop's thread and in every thread the ASGI handler
runs the view in, the top functions by own and by cumulative time written to FILE (e.g.
bench/results/profiles/page-cpu-before.txt), the raw profile to bench/results/tmp/<FILE's stem>.prof.

Not a test: timings vary by machine; compare runs made minutes apart on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import inspect
import io
import os
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess

# The hashed static files' manifest, which DEBUG=0 pages need: collected once into a folder of this script's own.
inprocess.start(
    "page-cpu", database_url="postgres://postgres@127.0.0.1:5432/chat_pages_bench", static_dir="page_cpu_static"
)
ROOT = inprocess.ROOT

from asgiref.sync import SyncToAsync  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import AsyncClient, Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import user_create  # noqa: E402
from groups import services as group_services  # noqa: E402
from messaging import services  # noqa: E402
from messaging.models import Conversation, ReadState  # noqa: E402
from messaging.selectors import default_conversation  # noqa: E402

VIEWER = "pagebench0"
MEMBERS = 20
MESSAGES = 60
OTHER_TOPICS = 10
DIRECTS = 10


def seed() -> tuple[User, Conversation]:
    """The viewer and the conversation under test, created on the first run."""
    viewer = User.objects.filter(username=VIEWER).first()
    if viewer is not None:
        group = viewer.memberships.get(group__name="Page bench").group
        return viewer, default_conversation(group)
    users = [
        user_create(
            username=f"pagebench{n}",
            email=f"pagebench{n}@example.com",
            password="page bench password",
            display_name=f"Bench Person {n}",
        )
        for n in range(MEMBERS + DIRECTS)
    ]
    viewer, members, outsiders = users[0], users[1:MEMBERS], users[MEMBERS:]
    group = group_services.group_create(
        actor=members[0], name="Page bench", member_usernames=[u.username for u in [viewer, *members[1:]]]
    )
    group_services.member_set_role(actor=members[0], group_id=group.pk, username=members[1].username, role="admin")
    general = default_conversation(group)
    authors = [viewer, *members]
    for n in range(MESSAGES):
        author = authors[n % 7]
        body = (
            f"Message {n} about the plan, see https://example.com/notes/{n} for details"
            if n % 5 == 0
            else (
                f"Message number {n}: a line of ordinary chat text that is about this long, give or take.\nSecond line."
            )
        )
        services.message_send(actor=author, conversation_id=general.pk, body=body, check_rate=False)
    services.message_edit(
        actor=viewer, conversation_id=general.pk, seq=1, body="Edited first message", check_rate=False
    )
    services.message_delete(actor=members[0], conversation_id=general.pk, seq=2, check_rate=False)
    for n in range(OTHER_TOPICS):
        topic = services.topic_create(actor=members[n % 5], group_id=group.pk, name=f"topic {n}")
        for k in range(3):
            services.message_send(
                actor=members[(n + k) % 9], conversation_id=topic.pk, body=f"topic {n} message {k}", check_rate=False
            )
    for outsider in outsiders:
        direct, _ = services.direct_open(actor=outsider, username=viewer.username)
        services.message_send(
            actor=outsider, conversation_id=direct.pk, body=f"hello from {outsider.username}", check_rate=False
        )
    # The general conversation is the newest activity, read up to its end.
    services.message_send(actor=members[0], conversation_id=general.pk, body="The latest message", check_rate=False)
    general.refresh_from_db()
    services.read_mark(actor=viewer, conversation_id=general.pk, seq=general.last_seq)
    return viewer, general


def unread_setup(viewer: User, conversation: Conversation):
    """Before each page-unread request: the viewer's marker five messages behind."""
    last_seq = Conversation.objects.values_list("last_seq", flat=True).get(pk=conversation.pk)

    def setup() -> None:
        ReadState.objects.filter(user=viewer, conversation=conversation).update(last_read_seq=last_seq - 5)

    return setup


class AppResponse:
    """What `Runner.get` needs of an answer from the ASGI application itself."""

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content


class Runner:
    """Send requests through the test client's ASGI handler (default), the WSGI one, or (app) the site's
    ASGI application as the server calls it (chatsite.asgi.application: its HTTP handler, thread contexts
    and request signals, with a hand-made scope)."""

    def __init__(self, viewer: User, *, wsgi: bool, app: bool = False) -> None:
        self.wsgi = wsgi
        self.app = None
        self.client = Client() if wsgi else AsyncClient()
        # force_login writes the session with the sync ORM; share its cookie with the async client.
        login = Client()
        login.force_login(viewer)
        self.client.cookies = login.cookies
        self.sync_client = login
        self.loop = None if wsgi else asyncio.new_event_loop()
        if app:
            from chatsite.asgi import application

            self.app = application
            self.cookie = "; ".join(f"{m.key}={m.value}" for m in login.cookies.values()).encode()

    async def _app_get(self, path: str, headers: dict) -> AppResponse:
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"cookie", self.cookie),
                *((k.lower().encode(), v.encode()) for k, v in headers.items()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
        }
        received = [{"type": "http.request", "body": b"", "more_body": False}]
        done = asyncio.Event()
        answer = {"status": 0, "body": []}

        async def receive():
            if received:
                return received.pop()
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
                if not message.get("more_body"):
                    done.set()

        await self.app(scope, receive, send)
        return AppResponse(answer["status"], b"".join(answer["body"]))

    def get(self, path: str, **headers):
        if self.wsgi:
            return self.client.get(path, headers=headers)
        if self.app is not None:
            return self.loop.run_until_complete(self._app_get(path, headers))
        return self.loop.run_until_complete(self.client.get(path, headers=headers))


def measure(runner: Runner, path: str, n: int, *, setup=None, headers=None) -> dict:
    headers = headers or {}
    for _ in range(5):  # warm-up: templates compiled, pool filled
        if setup:
            setup()
        response = runner.get(path, **headers)
        assert response.status_code == 200, (path, response.status_code)
    cpu = []
    for _ in range(n):
        if setup:
            setup()
        started = time.process_time()
        runner.get(path, **headers)
        cpu.append(time.process_time() - started)
    # Queries, in a separate pass (the debug cursor costs CPU of its own), through the WSGI
    # handler: under ASGI the view runs in another thread, with another connection.
    if setup:
        setup()
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        runner.sync_client.get(path, headers=headers)
    return {
        **inprocess.cpu_figures(cpu),
        "queries": len(captured),
        "sql": [q["sql"] for q in captured.captured_queries],
        "bytes": len(response.content),
    }


def _anchors() -> list[tuple[object, str]]:
    """The pieces of a page view followed across changes: (function, label), cumulative time per request."""
    from django.contrib.sessions.backends.base import SessionBase
    from django.db.backends.utils import CursorWrapper
    from django.db.models import Model
    from django.db.models.sql.compiler import SQLCompiler
    from django.shortcuts import render
    from django.template.defaulttags import URLNode
    from django.template.loader_tags import IncludeNode
    from django.urls import reverse

    from messaging import attachments, markup, selectors, views

    return [
        (views.conversation_detail, "the view"),
        (views._conversation_context, "  its data (queries and objects)"),
        (selectors.conversations_for_user, "    the sidebar's rows"),
        (selectors.messages_page, "    the page of messages"),
        (attachments.load_for_messages, "      their attachments"),
        (selectors.attach_reactions, "    reactions"),
        (selectors.attach_replies, "    reply originals"),
        (selectors.conversation_members, "    members"),
        (render, "  the template"),
        (markup.message_items, "    message items"),
        (markup.conversation_sections, "    sidebar sections"),
        (markup.member_items, "    member items"),
        (URLNode.render, "    {% url %}"),
        (IncludeNode.render, "    {% include %}"),
        (reverse, "  reverse() anywhere"),
        (Model.from_db, "  model instances built (from_db)"),
        (Model.__init__, "  model instances built (__init__)"),
        (SQLCompiler.as_sql, "  ORM queries compiled"),
        (CursorWrapper.execute, "  queries run (cursor.execute)"),
        (SessionBase._get_session, "  the session"),
    ]


def anchors(stats: pstats.Stats, requests: int) -> list[str]:
    """Cumulative ms and calls per request of each `_anchors` function (a function missing from the
    profile, e.g. one a change removed, shows 0)."""
    lines = []
    for function, label in _anchors():
        function = inspect.unwrap(function)
        code = function.__code__
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        _cc, calls, _tt, total, _callers = stats.stats.get(key, (0, 0, 0.0, 0.0, {}))
        lines.append(f"{label:<48}{1000 * total / requests:8.3f} ms {calls / requests:8.1f} calls")
    return lines


class ThreadProfiles:
    """A cProfile on its thread's CPU clock for the main thread, the thread where the test client's ASGI
    handler runs sync views (asgiref's `SyncToAsync.single_thread_executor`, started by the warm-up), and
    every thread started while on (`sync_to_async(thread_sensitive=False)`, a server's per-request context)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()

    def _start(self) -> cProfile.Profile:
        profile = cProfile.Profile(time.thread_time)
        with self.lock:
            self.profiles.append(profile)
        profile.enable()  # replaces this thread's Python-level hook below
        return profile

    def _hook(self, *_args) -> None:
        self._start()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._hook)
        self.view_thread = SyncToAsync.single_thread_executor.submit(self._start).result()
        self.main = self._start()
        return self

    def __exit__(self, *_exc) -> None:
        self.main.disable()
        SyncToAsync.single_thread_executor.submit(self.view_thread.disable).result()
        threading.setprofile(None)

    def report(self, requests: int, title: str, raw: Path) -> str:
        out = io.StringIO()
        stats = pstats.Stats(self.profiles[0], stream=out)
        for profile in self.profiles[1:]:
            stats.add(profile)
        raw.parent.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(raw)  # for pstats or snakeviz
        total = sum(st[2] for st in stats.stats.values())
        out.write(f"{title}\nprofiled CPU per request: {1000 * total / requests:.3f} ms ({requests} requests)\n")
        out.write("\n## where it goes (cumulative, per request, profiled)\n\n")
        out.write("\n".join(anchors(stats, requests)) + "\n")
        out.write("\n## top functions by own CPU\n")
        stats.sort_stats("tottime").print_stats(40)
        out.write("\n## top functions by cumulative CPU\n")
        stats.sort_stats("cumulative").print_stats(60)
        return out.getvalue()


def profile(runner: Runner, path: str, n: int, *, setup=None, headers=None) -> ThreadProfiles:
    headers = headers or {}
    if runner.app is not None:
        # The site's handler keeps its request threads: let it start new ones, under the profile's hook.
        from chatsite.asgi import django_asgi_app

        while django_asgi_app._idle:
            django_asgi_app._idle.pop().shutdown()
    with ThreadProfiles() as profiles:
        for _ in range(n):
            if setup:
                setup()
            runner.get(path, **headers)
    return profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="requests per scenario (default 200)")
    parser.add_argument("--wsgi", action="store_true", help="through the WSGI handler instead of ASGI")
    parser.add_argument(
        "--app", action="store_true", help="through the site's ASGI application (as the server calls it)"
    )
    parser.add_argument("--only", choices=["page", "page-unread", "history"], help="one scenario")
    parser.add_argument("--sql", action="store_true", help="print each scenario's queries")
    parser.add_argument("--profile", metavar="FILE", help="write a profile of one scenario (--only, default page)")
    args = parser.parse_args()

    if not (Path(os.environ["STATIC_ROOT"]) / "staticfiles.json").exists():
        call_command("collectstatic", "--noinput", verbosity=0)
    viewer, conversation = seed()
    runner = Runner(viewer, wsgi=args.wsgi, app=args.app)
    scenarios = {
        "page": (f"/chats/{conversation.pk}/", None, None),
        "page-unread": (f"/chats/{conversation.pk}/", unread_setup(viewer, conversation), None),
        "history": (f"/chats/{conversation.pk}/messages/", None, {"Accept": "application/json"}),
    }
    gc.collect()
    gc.freeze()  # as chatsite/asgi.py does after start-up
    handler = "WSGI" if args.wsgi else "the ASGI application" if args.app else "ASGI"
    print(f"{handler} handler, {args.n} requests each, {connection.vendor}")
    for name, (path, setup, headers) in scenarios.items():
        if args.only and name != args.only:
            continue
        result = measure(runner, path, args.n, setup=setup, headers=headers)
        print(
            f"{name:12} {result['mean_ms']:6.2f} ms CPU mean, {result['median_ms']:6.2f} median, "
            f"{result['p10_ms']:6.2f} p10, {result['queries']:2} queries, {result['bytes']} bytes"
        )
        if args.sql:
            for sql in result["sql"]:
                print("   ", sql[:300])
        if args.profile and name == (args.only or "page"):
            profiles = profile(runner, path, args.n, setup=setup, headers=headers)
            title = (
                f"# bench/page_cpu.py -n {args.n} --profile, scenario {name}, {'WSGI' if args.wsgi else 'ASGI'}, "
                f"{connection.vendor}, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
            )
            out = Path(args.profile)
            raw = ROOT / "bench" / "results" / "tmp" / f"{out.stem}.prof"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(profiles.report(args.n, title, raw))
            print(f"profile of {name} written to {out} (raw: {raw.relative_to(ROOT)})")
    if runner.loop is not None:
        runner.loop.close()


if __name__ == "__main__":
    main()
