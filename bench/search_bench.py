"""The `search` scenario: message search over 1,000,000 stored messages on PostgreSQL.

    python bench/search_bench.py                          # full size: 1,000,000 messages, 2,000 conversations
    python bench/search_bench.py --messages 100000        # a quicker look (results go to bench/results/tmp/)
    python bench/search_bench.py --load-only              # only load the data (then --reuse measures it)
    python bench/search_bench.py --reuse --explain 21     # only time each kind's statements, one at a time
    python bench/search_bench.py --reseed                 # load again even if the data is already there

What it does, on its own database (BENCH_SEARCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/chat_bench_search: dropped, re-created and migrated, unless it already
holds this seed: the `bench_seed` table records a fingerprint of the loader's code, its parameters and the
project's migrations, and a run whose fingerprint matches measures the data already there):
1. Users, 2,000 groups (one conversation each, five authors per group) and a searcher who is a
   member of 100 of them; then the messages, loaded with COPY (the GIN index dropped during the
   load and built after it): bodies of 4 to 20 words drawn from a 30,000-word vocabulary with
   Zipf frequencies (s = 1.07, as in English text), spread over one year.
2. The index: size of the GIN index and of the tsvector column, time to build the index.
3. Extra CPU per stored message: PostgreSQL backend CPU (from /proc) to insert the same 20,000
   messages into a copy of the messages table with the generated tsvector column and GIN index
   (pending list flushed) and into one without, the difference per message.
4. Queries of six kinds (one common word, one rare word, two words, a phrase, a prefix, from:),
   each for --duration seconds by --clients concurrent closed-loop clients, measured twice:
   - `sql`: the exact SQL the search selector sends (captured from it), on one connection per client;
   - `http`: GET /search/messages/ against `python -m chatsite.serve` (DEBUG=0, pinned to CPU 0 when
     taskset is present), keep-alive clients with the searcher's session cookie.
   p50/p99 latency and errors per kind; EXPLAIN ANALYZE of each kind's query is kept in the result.

`make bench` runs it after the other scenarios (bench/run.py --scenarios search runs only this).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import inspect
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from serving import HOST, manage, recreate_database, session_cookie, start_app_server

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DATABASE_URL = os.environ.get("BENCH_SEARCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chat_bench_search")
SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
VOCABULARY = 30_000
ZIPF_S = 1.07
AUTHORS_PER_GROUP = 5
P99_TARGET_MS = 50.0

sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(BENCH_DIR))


def env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": DATABASE_URL,
        "DB_POOL": "20",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(RESULTS_DIR / "tmp" / "static"),
        **extra,
    }


def setup_django() -> None:
    os.environ.update(env(DB_POOL="0"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()


# --------------------------------------------------------------------------------------------- data


def vocabulary(rng: random.Random) -> list[str]:
    """Pronounceable made-up words, most frequent first."""
    onsets = ["b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "pl"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
    words: list[str] = []
    seen = set()
    while len(words) < VOCABULARY:
        size = rng.choice((1, 2, 2, 3, 3, 4)) if len(words) > 50 else rng.choice((1, 1, 2))
        word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(size)) + rng.choice(("", "n", "s", "r"))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def create_people_and_groups(conversations: int, visible: int, rng: random.Random) -> dict:
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from groups.models import Group, Membership
    from messaging.models import Conversation

    password = make_password(None)
    authors = [
        User(username=f"author{n}", email=f"author{n}@bench.invalid", password=password)
        for n in range(max(AUTHORS_PER_GROUP, conversations // 4))
    ]
    User.objects.bulk_create(authors, batch_size=2000)
    searcher = User.objects.create(username="searcher", email="searcher@bench.invalid", password=password)
    groups = Group.objects.bulk_create([Group(name=f"group {n}") for n in range(conversations)], batch_size=2000)
    members, memberships = {}, []
    for group in groups:
        chosen = rng.sample(authors, AUTHORS_PER_GROUP)
        members[group.pk] = [u.pk for u in chosen]
        memberships += [
            Membership(group=group, user=u, role=Membership.Role.OWNER if i == 0 else Membership.Role.MEMBER)
            for i, u in enumerate(chosen)
        ]
    memberships += [Membership(group=g, user=searcher, role=Membership.Role.MEMBER) for g in groups[:visible]]
    Membership.objects.bulk_create(memberships, batch_size=5000)
    convs = Conversation.objects.bulk_create(
        [Conversation(kind=Conversation.Kind.GROUP, group=g, name="general") for g in groups], batch_size=2000
    )
    return {
        "searcher": searcher,
        "conversations": [c.pk for c in convs],
        "authors_of": {c.pk: members[c.group_id] for c in convs},
        "visible": [c.pk for c in convs[:visible]],
    }


def load_messages(people: dict, count: int, rng: random.Random, words: list[str]) -> dict:
    """COPY `count` messages; returns counts of messages per word rank and a sample of visible bodies."""
    from django.db import connection

    from messaging.models import Message

    weights = list(itertools.accumulate(1 / (rank**ZIPF_S) for rank in range(1, VOCABULARY + 1)))
    total = weights[-1]
    conversations = people["conversations"]
    visible = set(people["visible"])
    seqs = dict.fromkeys(conversations, 0)
    last_at = {}
    start = datetime(2025, 11, 1, tzinfo=UTC)
    step = timedelta(days=365) / count
    doc_freq = [0] * VOCABULARY
    samples = []
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX search_message_vector")
    started = time.monotonic()
    raw = connection.connection  # psycopg connection under Django's
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {table} (conversation_id, seq, author_id, body, html, created_at, deleted) FROM STDIN"
        ) as copy,
    ):
        buffer = []
        for n in range(count):
            conversation = rng.choice(conversations)
            seqs[conversation] += 1
            length = rng.randint(4, 20)
            ranks = [bisect.bisect_left(weights, rng.random() * total) for _ in range(length)]
            for rank in set(ranks):
                doc_freq[rank] += 1
            body = " ".join(words[r] for r in ranks)
            body = body[0].upper() + body[1:]
            if conversation in visible and len(samples) < 2000:
                samples.append(ranks)
            at = start + step * n
            last_at[conversation] = at
            author = rng.choice(people["authors_of"][conversation])
            html = f"<p>{body}</p>"  # what messaging.rendering makes of plain words
            buffer.append(f"{conversation}\t{seqs[conversation]}\t{author}\t{body}\t{html}\t{at.isoformat()}\tf\n")
            if len(buffer) >= 20_000:
                copy.write("".join(buffer))
                buffer.clear()
        copy.write("".join(buffer))
    loaded_s = time.monotonic() - started
    with connection.cursor() as cursor:
        for conversation, seq in seqs.items():
            if seq:
                cursor.execute(
                    "UPDATE messaging_conversation SET last_seq = %s, last_message_at = %s WHERE id = %s",
                    [seq, last_at[conversation], conversation],
                )
        started = time.monotonic()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(f"CREATE INDEX search_message_vector ON {table} USING gin (search_vector)")
        indexed_s = time.monotonic() - started
        cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("ANALYZE")  # the other tables too: users, groups, memberships, conversations
    return {
        "doc_freq": doc_freq,
        "samples": samples,
        "copy_s": round(loaded_s, 1),
        "index_build_s": round(indexed_s, 1),
    }


def index_sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size('search_message_vector'), pg_total_relation_size('messaging_message'),"
            " (SELECT sum(pg_column_size(search_vector)) FROM messaging_message),"
            " (SELECT count(*) FROM messaging_message)"
        )
        gin, table, vectors, rows = cursor.fetchone()
    mb = 1024 * 1024
    return {
        "messages": rows,
        "gin_index_mb": round(gin / mb, 1),
        "tsvector_column_mb": round(int(vectors) / mb, 1),
        "messages_table_total_mb": round(table / mb, 1),
        "bytes_per_message": round((gin + int(vectors)) / rows, 1),
    }


def backend_cpu_s(cursor) -> float:
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def extra_cpu_per_message(rows: int = 20_000, repeats: int = 3) -> dict:
    """Backend CPU to insert `rows` messages with and without the search column and index."""
    from django.db import connection

    columns = "conversation_id, seq, author_id, body, html, created_at, deleted"
    results = {"plain": [], "indexed": []}
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bench_source AS SELECT {columns} FROM messaging_message LIMIT {rows}")  # noqa: S608
        for _ in range(repeats):
            cursor.execute("DROP TABLE IF EXISTS bench_plain, bench_indexed")
            cursor.execute("CREATE TABLE bench_plain (LIKE messaging_message INCLUDING DEFAULTS INCLUDING IDENTITY)")
            cursor.execute(
                "CREATE TABLE bench_indexed"
                " (LIKE messaging_message INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED)"
            )
            cursor.execute("CREATE INDEX bench_indexed_vector ON bench_indexed USING gin (search_vector)")
            for name in ("plain", "indexed"):
                before = backend_cpu_s(cursor)
                cursor.execute(f"INSERT INTO bench_{name} ({columns}) SELECT {columns} FROM bench_source")  # noqa: S608
                if name == "indexed":
                    cursor.execute("SELECT gin_clean_pending_list('bench_indexed_vector'::regclass)")
                results[name].append(backend_cpu_s(cursor) - before)
        cursor.execute("DROP TABLE IF EXISTS bench_plain, bench_indexed, bench_source")
    plain, indexed = statistics.median(results["plain"]), statistics.median(results["indexed"])
    return {
        "rows": rows,
        "plain_ms_per_message": round(plain / rows * 1e3, 4),
        "indexed_ms_per_message": round(indexed / rows * 1e3, 4),
        "extra_ms_per_message": round((indexed - plain) / rows * 1e3, 4),
    }


# ------------------------------------------------------------------------------------------ queries


def query_kinds(words: list[str], data: dict, people: dict) -> dict[str, str]:
    doc_freq = data["doc_freq"]
    # Rare: the most frequent word found in at most 0.01 % of the messages (about 100 in a million).
    rare = next(r for r in range(VOCABULARY) if doc_freq[r] <= max(5, people["messages"] // 10_000))
    # Phrase: two neighbouring words, both among the 20th to 300th most frequent, from a visible message.
    phrase = next(
        (s[i], s[i + 1])
        for s in data["samples"]
        for i in range(len(s) - 1)
        if 20 <= s[i] < 300 and 20 <= s[i + 1] < 300
    )
    from accounts.models import User

    author = User.objects.get(pk=people["authors_of"][people["visible"][0]][0])
    return {
        "common_word": words[0],
        "rare_word": words[rare],
        "two_words": f"{words[10]} {words[100]}",
        "phrase": f'"{words[phrase[0]]} {words[phrase[1]]}"',
        "prefix": f"{words[50][:3]}*",
        "from": f"from:{author.username}",
    }


def captured_sql(user, q: str) -> list[str]:
    """The statements the search selector sends for this query, in order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search.query import parse
    from search.selectors import message_search

    with CaptureQueriesContext(connection) as ctx:
        message_search(user, parse(q), limit=20)
    return [query["sql"] for query in ctx.captured_queries]


def explain(sql: str) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    return {"plan": lines}


def statement_times(statements: list[str], repeats: int) -> list[dict]:
    """Planning + execution ms of each statement, min and median of `repeats` single runs in turn:
    EXPLAIN (ANALYZE, BUFFERS), or for the selector's own EXPLAIN (the planner's estimate) its planning time."""
    import re

    from django.db import connection

    estimate = "EXPLAIN (FORMAT JSON) "
    times: list[list[float]] = [[] for _ in statements]
    with connection.cursor() as cursor:
        for _ in range(repeats):
            for i, sql in enumerate(statements):
                is_estimate = sql.startswith(estimate)
                prefix = "EXPLAIN (SUMMARY) " if is_estimate else "EXPLAIN (ANALYZE, BUFFERS) "
                cursor.execute(prefix + (sql[len(estimate) :] if is_estimate else sql))
                plan = "\n".join(row[0] for row in cursor.fetchall())
                total = float(re.search(r"Planning Time: ([\d.]+)", plan).group(1))
                if not is_estimate:
                    total += float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))
                times[i].append(total)
    return [
        {"sql": sql[:80], "min_ms": round(min(t), 2), "median_ms": round(statistics.median(t), 2)}
        for sql, t in zip(statements, times, strict=True)
    ]


def percentiles(samples_ns: list[int]) -> dict:
    ms = sorted(s / 1e6 for s in samples_ns)
    if not ms:
        return {}

    def at(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p * len(ms)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ms[-1], 2), "n": len(ms)}


def sql_load(statements: list[str], clients: int, duration: float) -> dict:
    """Closed-loop clients, each on its own connection, sending one search's statements in turn."""
    import psycopg

    latencies: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration
    barrier = threading.Barrier(clients)

    def client() -> None:
        mine = []
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            for sql in statements:  # warm-up
                conn.execute(sql).fetchall()
            barrier.wait()
            while time.monotonic() < deadline:
                started = time.perf_counter_ns()
                try:
                    for sql in statements:
                        conn.execute(sql).fetchall()
                except psycopg.Error as error:
                    errors.append(str(error))
                    continue
                mine.append(time.perf_counter_ns() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latency_ms": percentiles(latencies),
        "errors": len(errors),
        "queries_per_s": round(len(latencies) / duration, 1),
    }


def pgbench_load(kind: str, statements: list[str], clients: int, duration: float) -> dict:
    """The same with pgbench (C, no interpreter lock among the clients): each transaction is one search."""
    workdir = RESULTS_DIR / "tmp" / "pgbench"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    script = workdir / f"{kind}.sql"
    script.write_text("".join(sql.rstrip(";") + ";\n" for sql in statements))
    argv = ["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(int(duration))]
    argv += ["-f", str(script), "-l", "--log-prefix", str(workdir / "log"), DATABASE_URL]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    latencies = []
    for log in workdir.glob("log*"):
        latencies += [int(line.split()[2]) * 1000 for line in log.read_text().splitlines() if line.strip()]
    failed = next((line for line in proc.stdout.splitlines() if line.startswith("number of failed")), "0")
    errors = int(failed.split(":")[-1].split()[0]) + (proc.returncode != 0)
    return {
        "latency_ms": percentiles(latencies),
        "errors": errors,
        "queries_per_s": round(len(latencies) / duration, 1),
        "tool": "pgbench",
    }


def run_sql_load(kind: str, statements: list[str], clients: int, duration: float) -> dict:
    if shutil.which("pgbench"):
        return pgbench_load(kind, statements, clients, duration)
    return sql_load(statements, clients, duration)


def start_server(python: str, pin: bool) -> tuple[subprocess.Popen, int]:
    return start_app_server(python, env(), RESULTS_DIR / "tmp" / "search-server.log", pin=pin)


def http_load(port: int, pid: int, cookie: str, q: str, clients: int, duration: float) -> dict:
    from urllib.parse import urlencode

    import pages

    plan = {"http": f"http://{HOST}:{port}", "clients": [{"cookie": cookie}]}
    path = f"/search/messages/?{urlencode({'q': q})}"
    result = asyncio.run(pages.load_endpoint(plan, path, clients, duration, [pid]))
    errors = sum(n for status, n in result["statuses"].items() if status != "200")
    return {
        "latency_ms": result["latency_ms"],
        "errors": errors,
        "requests_per_s": result["requests_per_s"],
        "server_cpu_ms_per_request": result["server"]["cpu_ms_per_request"],
    }


# --------------------------------------------------------------------------------------------- seed


def seed_fingerprint(messages: int, conversations: int, visible: int) -> str:
    """What the loaded data depends on: the loader's code and constants, its parameters and every migration
    (the schema). A run that finds the same fingerprint in the database reuses the data."""
    digest = hashlib.sha256()
    for fn in (vocabulary, create_people_and_groups, load_messages):
        digest.update(inspect.getsource(fn).encode())
    digest.update(json.dumps([VOCABULARY, ZIPF_S, AUTHORS_PER_GROUP, messages, conversations, visible]).encode())
    for path in sorted(PROJECT_DIR.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(PROJECT_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def stored_seed() -> dict | None:
    """(fingerprint, state) recorded by the last complete load, or None (no database, no table, no row)."""
    import psycopg

    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=10) as conn:
            row = conn.execute("SELECT fingerprint, state FROM bench_seed ORDER BY loaded_at DESC LIMIT 1").fetchone()
    except psycopg.Error:
        return None
    return {"fingerprint": row[0], "state": row[1]} if row else None


def record_seed(fingerprint: str, state: dict) -> None:
    """Written last, after the index and ANALYZE: a load that stopped half way leaves no row, so it is redone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_seed (fingerprint text NOT NULL, state jsonb NOT NULL, loaded_at timestamptz)"
        )
        cursor.execute("INSERT INTO bench_seed VALUES (%s, %s, now())", [fingerprint, json.dumps(state)])


# --------------------------------------------------------------------------------------------- main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--visible", type=int, default=100, help="conversations the searcher sees")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per query kind and layer")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--reuse", action="store_true", help="measure the data already loaded, whatever its seed")
    seed.add_argument("--reseed", action="store_true", help="load the data again even if it matches this seed")
    parser.add_argument("--load-only", action="store_true", help="load the data (and the state file), measure nothing")
    parser.add_argument(
        "--explain",
        type=int,
        metavar="N",
        help="only time each kind's statements one at a time, N runs (EXPLAIN ANALYZE; no load generators)",
    )
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    full = args.messages == 1_000_000 and args.conversations == 2_000 and args.visible == 100
    out = args.out or (RESULTS_DIR / "search.json" if full else RESULTS_DIR / "tmp" / "search.json")
    (RESULTS_DIR / "tmp").mkdir(parents=True, exist_ok=True)
    python = sys.executable
    pin = not args.no_pin and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    rng = random.Random(12)
    words = vocabulary(rng)
    result: dict = {
        "scenario": "search",
        "messages": args.messages,
        "conversations": args.conversations,
        "visible_conversations": args.visible,
        "clients": args.clients,
        "duration_s": args.duration,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    state_file = RESULTS_DIR / "tmp" / "search-state.json"  # for search_cpu.py
    fingerprint = seed_fingerprint(args.messages, args.conversations, args.visible)
    stored = None if args.reseed else stored_seed()
    reuse = stored is not None and (args.reuse or stored["fingerprint"] == fingerprint)
    if args.reuse and not reuse and not state_file.exists():
        sys.exit(f"nothing to reuse in {DATABASE_URL}: run without --reuse to load it")
    if not reuse and not args.reuse:
        print("loading the data" + (" (its seed changed)" if stored else ""), flush=True)
        started = time.monotonic()
        recreate_database(DATABASE_URL)
        manage(python, env(), [["migrate"]])
        setup_django()
        people = create_people_and_groups(args.conversations, args.visible, rng)
        data = load_messages(people, args.messages, rng, words)
        result["load"] = {"copy_s": data["copy_s"], "index_build_s": data["index_build_s"]}
        result["load"]["total_s"] = round(time.monotonic() - started, 1)
        people["messages"] = args.messages
        people["searcher"] = people["searcher"].pk
        state = {"people": people, "data": data, "load": result["load"]}
        record_seed(fingerprint, state)
        state_file.write_text(json.dumps(state))
        if args.load_only:
            print(json.dumps(result["load"]), flush=True)
            return 0
    else:
        setup_django()
        state = stored["state"] if reuse else json.loads(state_file.read_text())  # older loads: the file only
        state_file.write_text(json.dumps(state))
        people, data = state["people"], state["data"]
        result["load"] = {**state.get("load", {}), "reused": True}
        print(f"reusing the loaded data (loaded in {result['load'].get('total_s')} s)", flush=True)
        if args.load_only:
            return 0
        people["authors_of"] = {int(k): v for k, v in people["authors_of"].items()}
    from accounts.models import User

    searcher = User.objects.get(pk=people["searcher"])
    if args.explain:
        return print_statement_times(searcher, query_kinds(words, data, people), args.explain)
    result["index"] = index_sizes()
    print(json.dumps(result, indent=1), flush=True)
    result["extra_cpu"] = extra_cpu_per_message()
    print(json.dumps(result["extra_cpu"]), flush=True)

    kinds = query_kinds(words, data, people)
    result["queries"] = {}
    for kind, q in kinds.items():
        statements = captured_sql(searcher, q)
        search_sql = next(sql for sql in statements if sql.startswith('SELECT "messaging_message"."id"'))
        result["queries"][kind] = {
            "q": q,
            "statements": len(statements),
            "explain": explain(search_sql)["plan"],
            "sql": run_sql_load(kind, statements, args.clients, args.duration),
            "sql_one_client": run_sql_load(kind, statements, 1, min(args.duration, 3.0)),
        }
        print(kind, q, json.dumps(result["queries"][kind]["sql"]), flush=True)
    cookie = session_cookie(searcher)
    proc, port = start_server(python, pin)
    try:
        for kind, q in kinds.items():
            result["queries"][kind]["http"] = http_load(port, proc.pid, cookie, q, args.clients, args.duration)
            print(kind, "http", json.dumps(result["queries"][kind]["http"]), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with open("/proc/loadavg") as f:
        result["host_loadavg"] = f.read().split()[:3]
    result["ok"] = all(
        v["sql"]["errors"] == 0 and v["http"]["errors"] == 0 and v["sql"]["latency_ms"]["p99"] <= P99_TARGET_MS
        for v in result["queries"].values()
    )
    out.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"\nresults in {out}")
    return 0 if result["ok"] else 1


def print_statement_times(searcher, kinds: dict[str, str], repeats: int) -> int:
    """Each kind's statements as the selector sends them, timed one at a time (bench/results/search-explain.json)."""
    found = {}
    print(f"ms per statement, planning + execution, min / median of {repeats} single runs")
    for kind, q in kinds.items():
        statements = captured_sql(searcher, q)
        found[kind] = {"q": q, "statements": statement_times(statements, repeats)}
        cells = " | ".join(f"{t['min_ms']:.2f} / {t['median_ms']:.2f}" for t in found[kind]["statements"])
        total_min = sum(t["min_ms"] for t in found[kind]["statements"])
        print(f"{kind:12} {q:22} {cells} | all {total_min:.2f}")
    with open("/proc/loadavg") as f:
        found["host_loadavg"] = f.read().split()[:3]
    (RESULTS_DIR / "search-explain.json").write_text(json.dumps(found, indent=2) + "\n")
    return 0


def print_table(result: dict) -> None:
    print("\n| kind | query | SQL p50 | SQL p99 | 1 client p50 | HTTP p50 | HTTP p99 | errors | server CPU ms/req |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, v in result["queries"].items():
        sql, http = v["sql"], v.get("http", {})
        print(
            f"| {kind} | `{v['q']}` | {sql['latency_ms']['p50']} | {sql['latency_ms']['p99']} | "
            f"{v['sql_one_client']['latency_ms']['p50']} | "
            f"{http.get('latency_ms', {}).get('p50')} | {http.get('latency_ms', {}).get('p99')} | "
            f"{sql['errors'] + http.get('errors', 0)} | {http.get('server_cpu_ms_per_request')} |"
        )


if __name__ == "__main__":
    sys.exit(main())
