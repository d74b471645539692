"""Server CPU per search request (GET /search/messages/?q=…), measured in process, per query kind.

    .venv/bin/python bench/search_cpu.py [-n 200] [--only prefix] [--wsgi] [--profile] [--sql]

Django runs as in production (DEBUG=0, the settings' connection pool) against the search scenario's database
(BENCH_SEARCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/chat_bench_search), loaded by
`bench/search_bench.py` (`--load-only` loads it without measuring); the six query kinds are the ones that script
measures (one common word, one rare word, two words, a phrase, a prefix, `from:`), read from its state file
`bench/results/tmp/search-state.json`. Nothing is written to the database but the searcher's session.

Each kind's requests go to the production ASGI application (chatsite.asgi) as uvicorn hands them over (a scope,
no sockets: the middleware, the per-request worker thread and the sync/async hops as in production) or, with
--wsgi, through the WSGI handler (Django's test client), with the searcher's session cookie. Reported per kind: CPU
milliseconds per request (time.process_time, every thread of the process: PostgreSQL's own CPU is not in it),
queries per request (counted in a separate pass, since counting has a cost of its own) and the response's size.

--profile adds a pass under cProfile on each thread's own CPU clock (the event loop's thread and the per-request
thread Django's ASGI handler runs the sync middleware and view in), written to
bench/results/profiles/search-cpu-<kind>.txt, with a summary by part of the request (see PARTS).

Not a test: timings vary by machine; compare runs made minutes apart on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import gc
import io
import json
import pstats
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
import inprocess

inprocess.start(
    "search-cpu",
    database_url="postgres://postgres@127.0.0.1:5432/chat_bench_search",
    database_url_from="BENCH_SEARCH_DATABASE_URL",
)
ROOT = inprocess.ROOT

import asgiref.sync  # noqa: E402
import search_bench  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from accounts.models import User  # noqa: E402

PROFILES_DIR = ROOT / "bench" / "results" / "profiles"
STATE_FILE = ROOT / "bench" / "results" / "tmp" / "search-state.json"

# Parts of a request for --profile: (module, attribute) whose CPU (time.thread_time, in whichever thread runs it)
# is the part's, timed in a pass without cProfile (whose own cost, per Python call, swamps the ORM's many small calls).
PARTS = {
    "session (load)": [("django.contrib.sessions.backends.db", "SessionStore.load")],
    "user (auth.get_user)": [("django.contrib.auth", "get_user")],
    "the view (search_messages)": [("search.views", "search_messages")],
    "  form and query parsing": [("search.views", "SearchForm.is_valid"), ("search.views", "SearchForm")],
    "  selector (message_search)": [("search.views", "selectors.message_search")],
    "    visible conversation ids": [("search.selectors", "_visible_ids")],
    "    planner's estimate (EXPLAIN)": [("search.backends", "pg_few_matches")],
    "    the page of results by id": [("search.selectors", "_results")],
    "  attachments, replies, reactions": [("search.views", "selectors.load_for_json")],
    "  message_json": [("search.views", "message_json")],
    "  highlight": [("search.views", "highlight")],
    "  conversation_title": [("search.views", "conversation_title")],
    "  JsonResponse (encoding)": [("search.views", "JsonResponse")],
    "SQL: Django cursor execute (all)": [("django.db.backends.utils", "CursorWrapper._execute")],
    "SQL: ORM querysets (build, run, rows)": [("django.db.models.query", "ModelIterable.__iter__")],
}


class PartTimer:
    """Wraps the PARTS' functions to add up their CPU per part; recursion and nesting of the same part count once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PARTS, 0.0)
        self.local = threading.local()
        self.active = False
        self.worker = 0.0  # CPU of the request worker threads (the sync middleware and the view)
        self.lock = threading.Lock()

    def install(self) -> None:
        import importlib

        for name, targets in PARTS.items():
            for module_name, attribute in targets:
                owner = importlib.import_module(module_name)
                *path, last = attribute.split(".")
                for step in path:
                    owner = getattr(owner, step)
                original = getattr(owner, last, None)
                if original is None:  # not in this version of the code
                    print(f"(no {module_name}.{attribute}: part {name.strip()!r} not timed)")
                    continue
                setattr(owner, last, self._timed(name, original, generator=last == "__iter__"))
        view = get_resolver().resolve("/search/messages/")
        view_pattern = next(p for p in get_resolver().url_patterns if getattr(p, "app_name", None) == "search")
        for pattern in view_pattern.url_patterns:
            if pattern.callback is view.func:
                pattern.callback = self._timed("the view (search_messages)", view.func)

    def _timed(self, name: str, fn, *, generator: bool = False):
        timer = self

        def enter():
            depth = getattr(timer.local, name, 0)
            setattr(timer.local, name, depth + 1)
            return depth, time.thread_time()

        def leave(depth, started):
            setattr(timer.local, name, depth)
            if depth == 0 and timer.active:
                timer.seconds[name] += time.thread_time() - started

        if generator:

            def timed_iter(*args, **kwargs):
                iterator = fn(*args, **kwargs)
                while True:
                    depth, started = enter()
                    try:
                        item = next(iterator)
                    except StopIteration:
                        return
                    finally:
                        leave(depth, started)
                    yield item

            return timed_iter

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            depth, started = enter()
            try:
                return fn(*args, **kwargs)
            finally:
                leave(depth, started)

        return timed

    def executor_class(self):
        timer = self

        class TimedExecutor(ThreadPoolExecutor):
            def submit(self, fn, /, *args, **kwargs):
                def run():
                    started = time.thread_time()
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        if timer.active:
                            with timer.lock:
                                timer.worker += time.thread_time() - started

                return super().submit(run)

        return TimedExecutor


def query_kinds() -> tuple[User, dict[str, str]]:
    if not STATE_FILE.exists():
        sys.exit(f"{STATE_FILE} is missing: load the data first with bench/search_bench.py --load-only")
    state = json.loads(STATE_FILE.read_text())
    people, data = state["people"], state["data"]
    people["authors_of"] = {int(k): v for k, v in people["authors_of"].items()}
    words = search_bench.vocabulary(random.Random(12))  # as search_bench.main draws them
    return User.objects.get(pk=people["searcher"]), search_bench.query_kinds(words, data, people)


class ThreadProfiles:
    """One cProfile per thread on that thread's CPU clock. Django's ASGI handler runs each request's sync code in
    a new single-thread executor (asgiref's ThreadSensitiveContext); those executors are made profiling."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()
        self.active = False

    def new(self) -> cProfile.Profile:
        prof = cProfile.Profile(time.thread_time)
        with self.lock:
            self.profiles.append(prof)
        return prof

    def executor_class(self):
        profiles = self

        class ProfiledExecutor(ThreadPoolExecutor):
            def submit(self, fn, /, *args, **kwargs):
                if not profiles.active:
                    return super().submit(fn, *args, **kwargs)

                def run():
                    prof = profiles.new()
                    prof.enable()
                    try:
                        return fn(*args, **kwargs)
                    finally:
                        prof.disable()

                return super().submit(run)

        return ProfiledExecutor

    def stats(self, stream) -> pstats.Stats:
        stats = pstats.Stats(self.profiles[0], stream=stream)
        for prof in self.profiles[1:]:
            stats.add(prof)
        return stats


def cumulative(stats: pstats.Stats, suffix: str, name: str, class_name: str | None = None) -> float:
    total = 0.0
    for (filename, line, funcname), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        if funcname == name and filename.endswith(suffix):
            if class_name and class_name not in _source_line(filename, line):
                continue
            total += ct
    return total


def _source_line(filename: str, line: int) -> str:
    """The class a method at `line` belongs to, roughly: the nearest `class` line above it."""
    lines = Path(filename).read_text().splitlines()[:line]
    return next((text for text in reversed(lines) if text.startswith("class ")), "")


class Runner:
    """Requests as uvicorn hands them over: an ASGI scope to the production application (chatsite.asgi), or
    with `wsgi` Django's test client through the WSGI handler."""

    def __init__(self, searcher: User, *, wsgi: bool) -> None:
        self.wsgi = wsgi
        login = Client()
        login.force_login(searcher)
        self.sync_client = login
        cookie = login.cookies[settings.SESSION_COOKIE_NAME]
        self.headers = [(b"host", b"testserver"), (b"cookie", f"{cookie.key}={cookie.value}".encode())]
        self.loop = None if wsgi else asyncio.new_event_loop()

    def get(self, path: str) -> tuple[int, bytes]:
        if self.wsgi:
            response = self.sync_client.get(path)
            return response.status_code, response.content
        return self.loop.run_until_complete(self._asgi_get(path))

    async def _asgi_get(self, path: str) -> tuple[int, bytes]:
        from chatsite.asgi import application

        route, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": "GET",
            "root_path": "",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "headers": self.headers,
        }
        sent = []
        requested = []

        async def receive():
            if not requested:  # the (empty) body; then, as uvicorn, nothing until the client goes away
                requested.append(True)
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()

        async def send(message):
            sent.append(message)

        await application(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return sent[0]["status"], body


def measure(runner: Runner, path: str, n: int) -> dict:
    for _ in range(5):  # warm-up: pool filled, caches of the stemmer and the URL resolver
        status, body = runner.get(path)
        assert status == 200, (path, status, body[:200])
    cpu = []
    for _ in range(n):
        started = time.process_time()
        runner.get(path)
        cpu.append(time.process_time() - started)
    # Queries, in a separate pass through the WSGI handler (under ASGI the view runs in another thread).
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        runner.sync_client.get(path)
    return {
        **inprocess.cpu_figures(cpu),
        "queries": len(captured),
        "sql": [q["sql"] for q in captured.captured_queries],
        "results": len(json.loads(body)["results"]),
        "bytes": len(body),
    }


def parts(runner: Runner, path: str, n: int, timer: PartTimer) -> list[str]:
    """CPU ms per request by part, from a pass with the PARTS' functions timed (no cProfile)."""
    asgiref.sync.ThreadPoolExecutor = timer.executor_class()
    timer.seconds = dict.fromkeys(PARTS, 0.0)
    timer.worker = 0.0
    timer.active = True
    started = time.process_time()
    for _ in range(n):
        runner.get(path)
    total = time.process_time() - started
    timer.active = False
    lines = [f"  {'all (process CPU)':36} {1000 * total / n:6.2f}"]
    if not runner.wsgi:
        lines.append(f"  {'request worker thread':36} {1000 * timer.worker / n:6.2f}")
        lines.append(f"  {'event loop thread (ASGI, hand-offs)':36} {1000 * (total - timer.worker) / n:6.2f}")
    lines += [f"  {name:36} {1000 * seconds / n:6.2f}" for name, seconds in timer.seconds.items()]
    return lines


def profile(runner: Runner, path: str, n: int, kind: str, profiles: ThreadProfiles, summary: list[str]) -> Path:
    loop_profile = profiles.new()
    asgiref.sync.ThreadPoolExecutor = profiles.executor_class()
    profiles.active = True
    loop_profile.enable()
    for _ in range(n):
        runner.get(path)
    loop_profile.disable()
    profiles.active = False
    stream = io.StringIO()
    stats = profiles.stats(stream)
    profiles.profiles.clear()
    total = sum(st[2] for st in stats.stats.values())
    summary = [
        f"{kind}: {path}, {n} requests each pass",
        "CPU ms per request by part (timed, without cProfile; parts indented are inside the view; the SQL lines cut",
        "across the others):",
        *summary,
        "",
        f"cProfile pass (per-thread CPU clocks; its own overhead inflates the total to {1000 * total / n:.1f} ms):",
    ]
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    PROFILES_DIR.mkdir(parents=True, exist_ok=True)
    out = PROFILES_DIR / f"search-cpu-{kind}.txt"
    out.write_text("\n".join(summary) + "\n\n" + stream.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=200, help="requests per kind (default 200)")
    parser.add_argument("--wsgi", action="store_true", help="through the WSGI handler instead of ASGI")
    parser.add_argument("--only", help="one kind (common_word, rare_word, two_words, phrase, prefix, from)")
    parser.add_argument("--sql", action="store_true", help="print each kind's queries")
    parser.add_argument("--profile", action="store_true", help="also profile each kind (bench/results/profiles/)")
    args = parser.parse_args()

    searcher, kinds = query_kinds()
    profiles, timer = ThreadProfiles(), PartTimer()
    if args.profile:
        timer.install()
    runner = Runner(searcher, wsgi=args.wsgi)
    gc.collect()
    gc.freeze()  # as chatsite/asgi.py does after start-up
    print(f"{'WSGI' if args.wsgi else 'ASGI'} handler, {args.n} requests each, {connection.vendor}")
    for kind, q in kinds.items():
        if args.only and kind != args.only:
            continue
        path = f"/search/messages/?{urlencode({'q': q})}"
        result = measure(runner, path, args.n)
        print(
            f"{kind:12} {q!s:22} {result['mean_ms']:6.2f} ms CPU mean, {result['median_ms']:6.2f} median, "
            f"{result['p10_ms']:6.2f} p10, {result['queries']:2} queries, {result['results']} results, "
            f"{result['bytes']} bytes",
            flush=True,
        )
        if args.sql:
            for sql in result["sql"]:
                print("   ", sql[:300])
        if args.profile:
            summary = parts(runner, path, args.n, timer)
            print("\n".join(summary))
            print("   profile:", profile(runner, path, args.n, kind, profiles, summary).relative_to(ROOT))
    if runner.loop is not None:
        runner.loop.close()


if __name__ == "__main__":
    main()
