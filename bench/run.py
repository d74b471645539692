"""Benchmark orchestrator: starts each target pinned to one CPU and drives it with loadgen.py pinned to another.

    python bench/run.py                                   # every target and scenario, full length
    python bench/run.py --duration 3                      # smoke run; results go to bench/results/tmp/
    python bench/run.py --targets node_ws --scenarios fanout,rooms

Each (target, scenario) pair gets a freshly started server, so counters, caches and heaps start clean.
Results: ``<out-dir>/<target>-<scenario>.json`` (the load generator's full output) and ``<out-dir>/summary.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import loadgen
import proxy
import scorecard
from serving import HOST, free_port, manage, recreate_database, spawn

BENCH_DIR = Path(__file__).resolve().parent
NODE_PEER_DIR = BENCH_DIR / "peers" / "node_ws"
PY_PEER = BENCH_DIR / "peers" / "py_websockets" / "server.py"
RESULTS_DIR = BENCH_DIR / "results"


# ---------------------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # "traffic" or "capacity"
    rooms: int
    members: int
    rate: float = 0.0
    duration: float = 0.0
    steps: tuple[int, ...] = ()
    messages: int = 0  # "pages": messages stored in the conversation before the load
    rates: tuple[int, ...] = ()  # "ramp": messages/s per step (duration is per step)
    sockets: int = 0  # "storm": sockets dropped and reconnected at once


SCENARIOS: dict[str, Scenario] = {
    "fanout": Scenario("fanout", "traffic", rooms=1, members=100, rate=20.0, duration=30.0),
    "rooms": Scenario("rooms", "traffic", rooms=100, members=10, rate=100.0, duration=30.0),
    "capacity": Scenario("capacity", "capacity", rooms=100, members=10, steps=loadgen.DEFAULT_STEPS),
    # Many rooms at rising rates, 10 s per step, until p99 passes 25 ms or anything is lost.
    "ramp": Scenario("ramp", "ramp", rooms=100, members=10, duration=10.0, rates=loadgen.DEFAULT_RAMP_RATES),
    # 5,000 sockets (the 100 x 10 plan cycled) dropped at once and reconnected at once, probes sending meanwhile.
    "storm": Scenario("storm", "storm", rooms=100, members=10, sockets=loadgen.DEFAULT_STORM_SOCKETS),
    # HTTP: 20 concurrent clients (members) on the conversation page and the history endpoint, 10 s each.
    "pages": Scenario("pages", "pages", rooms=1, members=20, duration=10.0, messages=50),
    # Message search over 1,000,000 stored messages, 10 concurrent clients, 10 s per query kind
    # (bench/search_bench.py, its own database; chatsite only).
    "search": Scenario("search", "search", rooms=2000, members=10, duration=10.0, messages=1_000_000),
    # Attachments: 40 uploads of 1 MiB and 8 of 20 MiB (throughput, server memory), and the
    # conversation page with 50 image messages (bench/files_bench.py, its own database; chatsite only).
    "files": Scenario("files", "files", rooms=1, members=10, duration=10.0, messages=50),
}
HTTP_TARGETS = {"chatsite", "chatsite_daphne"}  # the peers serve no pages
# chatsite_2proc, chatsite_daphne and chatsite_nginx1 on request (--targets).
DEFAULT_TARGETS = [
    "chatsite",
    "chatsite_nginx",
    "node_ws",
    "node_ws_pg",
    "py_websockets",
]
# Targets that run only some scenarios unless --scenarios names others: two processes behind nginx are there
# to find the sustained send rate against one process's.
DEFAULT_SCENARIOS_OF = {"chatsite_nginx": ("ramp",), "chatsite_nginx1": ("ramp",)}


# ------------------------------------------------------------------------------------------ targets


@dataclass
class RunContext:
    """What a target starter needs: where to put logs and plans, and how to pin the server."""

    workdir: Path
    server_prefix: list[str]  # e.g. ["taskset", "-c", "0"]
    python: str = sys.executable
    server_env: dict[str, str] = field(default_factory=dict)  # extra environment for the chat server
    generator_prefix: list[str] = field(default_factory=list)  # the generator's pinning (chatsite_2proc's 2nd server)


@dataclass
class RunningTarget:
    """A started target: the plan the load generator should use and the PIDs to sample."""

    name: str
    plan: dict
    pids: list[int]
    procs: list[subprocess.Popen] = field(default_factory=list)
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for fn in self.cleanup:
            fn()


TargetStarter = Callable[[Scenario, RunContext], RunningTarget]
TARGETS: dict[str, TargetStarter] = {}


def target(name: str) -> Callable[[TargetStarter], TargetStarter]:
    """Register a target starter. A starter launches the server (pinned with ``ctx.server_prefix``), prepares
    whatever the scenario needs (users, groups, logins for the chat server), and returns the plan and PIDs."""

    def register(fn: TargetStarter) -> TargetStarter:
        TARGETS[name] = fn
        return fn

    return register


def spawn_server(name: str, argv: list[str], port: int, ctx: RunContext, cwd: Path | None = None) -> subprocess.Popen:
    return spawn(ctx.server_prefix + argv, port, ctx.workdir / f"{name}.log", cwd=cwd)


def ensure_node_deps() -> None:
    modules = NODE_PEER_DIR / "node_modules"
    if not all((modules / dep / "package.json").exists() for dep in ("ws", "pg")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_PEER_DIR, check=True)


@target("node_ws")
def start_node_ws(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    ensure_node_deps()
    port = free_port()
    proc = spawn_server("node_ws", ["node", "server.js", str(port)], port, ctx, cwd=NODE_PEER_DIR)
    plan = loadgen.build_peer_plan(f"ws://{HOST}:{port}/ws/", scenario.rooms, scenario.members, name="node_ws")
    return RunningTarget("node_ws", plan, [proc.pid], [proc])


BENCH_NODE_PG_URL = os.environ.get("BENCH_NODE_PG_URL", "postgres://postgres@127.0.0.1:5432/chat_bench_node_pg")


@target("node_ws_pg")
def start_node_ws_pg(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    """The Node peer with storage (`server.js --pg`): one transaction per message on a pool of 10, the seq from
    the room's row, synchronous commit on; its own database, re-created for every run so each starts empty."""
    ensure_node_deps()
    recreate_database(BENCH_NODE_PG_URL)
    port = free_port()
    argv = [*ctx.server_prefix, "node", "server.js", str(port), "--pg"]
    env = {**os.environ, "PG_URL": BENCH_NODE_PG_URL}
    proc = spawn(argv, port, ctx.workdir / "node_ws_pg.log", env=env, cwd=NODE_PEER_DIR)
    plan = loadgen.build_peer_plan(f"ws://{HOST}:{port}/ws/", scenario.rooms, scenario.members, name="node_ws_pg")
    return RunningTarget("node_ws_pg", plan, [proc.pid], [proc])


@target("py_websockets")
def start_py_websockets(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    port = free_port()
    proc = spawn_server("py_websockets", [ctx.python, str(PY_PEER), str(port)], port, ctx)
    plan = loadgen.build_peer_plan(f"ws://{HOST}:{port}/ws/", scenario.rooms, scenario.members, name="py_websockets")
    return RunningTarget("py_websockets", plan, [proc.pid], [proc])


# ----------------------------------------------------------------------------------------- chatsite

PROJECT_DIR = BENCH_DIR.parent
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chat_bench")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BENCH_SEARCH_DATABASE_URL = os.environ.get(
    "BENCH_SEARCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chat_bench_search"
)  # search_bench.py's default
_chatsite_db_ready = False
_chatsite_runs = 0


def chatsite_env(**extra: str) -> dict[str, str]:
    """The production configuration: DEBUG off, PostgreSQL, Redis channel layer and cache (own prefixes)."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", "bench-only-secret-key-" + "x" * 40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": BENCH_DATABASE_URL,
        "REDIS_URL": BENCH_REDIS_URL,
        "CHANNEL_LAYER_PREFIX": "chatbench",
        "CACHE_KEY_PREFIX": "chatbench",
        # docs/deploy.md: "in production set DB_POOL" (under ASGI, CONN_MAX_AGE keeps a connection per request
        # thread); --server-env DB_POOL=0 measures the CONN_MAX_AGE=600 fallback.
        "DB_POOL": "20",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "STATIC_ROOT": str(RESULTS_DIR / "tmp" / "static"),  # collected once, so pages find the manifest
    }
    env.update(extra)
    return env


def chatsite_prepare_db(ctx: RunContext) -> None:
    """Drop and re-create the dedicated bench database, then migrate it (once per orchestrator run)."""
    global _chatsite_db_ready
    if _chatsite_db_ready:
        return
    recreate_database(BENCH_DATABASE_URL)
    manage(ctx.python, chatsite_env(), [["migrate"], ["collectstatic", "--clear"]])
    _chatsite_db_ready = True


def chatsite_sessions(ctx: RunContext, prefix: str, groups: int, members: int, messages: int = 0) -> dict:
    """Bench users in groups with logged-in sessions (manage.py bench_sessions), as a plan fragment."""
    argv = [ctx.python, "manage.py", "bench_sessions", "--force", "--prefix", prefix]
    argv += ["--groups", str(groups), "--members", str(members), "--messages", str(messages)]
    out = subprocess.run(argv, cwd=PROJECT_DIR, env=chatsite_env(), check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def server_argv(server: str, python: str, port: int) -> list[str]:
    """The production entry point (uvicorn with chatsite/serve.py's options), or the same ASGI app under daphne."""
    if server == "daphne":
        return [python, "-m", "daphne", "-b", HOST, "-p", str(port), "chatsite.asgi:application"]
    return [python, "-m", "chatsite.serve", "--host", HOST, "--port", str(port)]


def start_chatsite_server(
    ctx: RunContext, name: str = "chatsite", server: str = "serve"
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = ctx.server_prefix + server_argv(server, ctx.python, port)
    log_path = ctx.workdir / f"{name}.log"
    return spawn(argv, port, log_path, env=chatsite_env(**ctx.server_env), cwd=PROJECT_DIR, timeout=60), port


@target("chatsite")
def start_chatsite(scenario: Scenario, ctx: RunContext, server: str = "serve") -> RunningTarget:
    """`python -m chatsite.serve` (uvicorn) + PostgreSQL + Redis, DEBUG off, as in production; users, groups
    and sessions made by manage.py bench_sessions."""
    global _chatsite_runs
    chatsite_prepare_db(ctx)
    _chatsite_runs += 1
    prefix = f"{scenario.name[:5]}{_chatsite_runs}"
    messages = scenario.messages if scenario.kind == "pages" else 0
    fragment = chatsite_sessions(ctx, prefix, scenario.rooms, scenario.members, messages)
    proc, port = start_chatsite_server(ctx, server=server)
    plan = {
        "name": "chatsite",
        "url": f"ws://{HOST}:{port}/ws/",
        "origin": f"http://{HOST}:{port}",
        "http": f"http://{HOST}:{port}",
        "clients": fragment["clients"],
        "conversations": fragment["conversations"],
    }
    return RunningTarget("chatsite", plan, [proc.pid], [proc])


@target("chatsite_daphne")
def start_chatsite_daphne(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    """The same app, settings and data under daphne (the server before chatsite.serve; BENCHMARKS.md compares)."""
    running = start_chatsite(scenario, ctx, server="daphne")
    running.name = running.plan["name"] = "chatsite_daphne"
    return running


@target("chatsite_2proc")
def start_chatsite_2proc(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    """Two production processes behind the same Redis, one per core (the second shares the generator's core);
    sockets alternate between them, so most deliveries cross processes through the channel layer."""
    global _chatsite_runs
    chatsite_prepare_db(ctx)
    _chatsite_runs += 1
    fragment = chatsite_sessions(ctx, f"{scenario.name[:5]}{_chatsite_runs}", scenario.rooms, scenario.members)
    second = replace(ctx, server_prefix=ctx.generator_prefix)
    procs, ports = zip(
        start_chatsite_server(ctx, "chatsite-a"), start_chatsite_server(second, "chatsite-b"), strict=True
    )
    clients = [
        {**client, "url": f"ws://{HOST}:{ports[i % 2]}/ws/", "origin": f"http://{HOST}:{ports[i % 2]}"}
        for i, client in enumerate(fragment["clients"])
    ]
    plan = {"name": "chatsite_2proc", "url": f"ws://{HOST}:{ports[0]}/ws/", "clients": clients}
    plan["conversations"] = fragment["conversations"]
    return RunningTarget("chatsite_2proc", plan, [p.pid for p in procs], list(procs))


def nginx_worker_pids(master: int, timeout: float = 5.0) -> list[int]:
    """The nginx master's children (its worker), once it has forked them."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            if children:
                return [int(pid) for pid in children]
        if time.monotonic() > deadline:
            return []
        time.sleep(0.05)


def start_chatsite_behind_nginx(scenario: Scenario, ctx: RunContext, name: str, processes: int) -> RunningTarget:
    """``processes`` production processes behind one nginx (a generated config in the work folder, nginx run
    unprivileged, unpinned). The first process is pinned to the server's CPU and the second to the generator's,
    as chatsite_2proc; nginx sends each new socket to the process with the fewest (`least_conn`)."""
    global _chatsite_runs
    binary = proxy.find_nginx()
    if binary is None:
        raise RuntimeError(proxy.MISSING)
    chatsite_prepare_db(ctx)
    _chatsite_runs += 1
    fragment = chatsite_sessions(ctx, f"{scenario.name[:5]}{_chatsite_runs}", scenario.rooms, scenario.members)
    prefixes = [ctx.server_prefix, ctx.generator_prefix or ctx.server_prefix][:processes]
    running = RunningTarget(name, {}, [], [])
    try:
        for i, prefix in enumerate(prefixes):
            proc, port = start_chatsite_server(replace(ctx, server_prefix=prefix), f"{name}-{'ab'[i]}")
            running.procs.append(proc)
            running.pids.append(proc.pid)
            running.plan.setdefault("upstream_ports", []).append(port)
        port = free_port()
        nginx_dir = ctx.workdir / name
        proxy.write_nginx_config(nginx_dir, port, running.plan["upstream_ports"])
        nginx = spawn(proxy.nginx_argv(binary, nginx_dir), port, ctx.workdir / f"{name}-nginx.log")
    except BaseException:
        running.stop()
        raise
    # nginx first: stop() signals in this order, so it stops taking sockets as the processes behind it go.
    running.procs.insert(0, nginx)
    running.pids += nginx_worker_pids(nginx.pid)  # its CPU counts as serving
    running.plan.update(
        name=name,
        url=f"ws://{HOST}:{port}/ws/",
        origin=f"http://{HOST}:{port}",
        clients=fragment["clients"],
        conversations=fragment["conversations"],
    )
    return running


@target("chatsite_nginx")
def start_chatsite_nginx(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    """Two production processes behind nginx: the sustained send rate of two processes against one's."""
    return start_chatsite_behind_nginx(scenario, ctx, "chatsite_nginx", processes=2)


@target("chatsite_nginx1")
def start_chatsite_nginx1(scenario: Scenario, ctx: RunContext) -> RunningTarget:
    """One production process behind the same nginx: what nginx itself costs, next to chatsite_nginx."""
    return start_chatsite_behind_nginx(scenario, ctx, "chatsite_nginx1", processes=1)


def skip_reason(target_name: str) -> str | None:
    """Why a target cannot run on this machine (a missing program), or None."""
    if target_name.startswith("chatsite_nginx") and proxy.find_nginx() is None:
        return proxy.MISSING
    return None


# -------------------------------------------------------------------------------------------- runs


def loadgen_argv(scenario: Scenario, plan_path: Path, pids: list[int], out: Path, label: str) -> list[str]:
    argv = [str(BENCH_DIR / "loadgen.py")]
    if scenario.kind == "pages":
        argv = [str(BENCH_DIR / "pages.py"), "--concurrency", str(scenario.members), "--queries"]
        argv += ["--duration", str(scenario.duration), "--plan", str(plan_path), "--out", str(out), "--label", label]
        return argv + (["--server-pid", ",".join(map(str, pids))] if pids else [])
    if scenario.kind == "capacity":
        argv += ["capacity", "--steps", ",".join(map(str, scenario.steps))]
    elif scenario.kind == "ramp":
        argv += ["ramp", "--rates", ",".join(map(str, scenario.rates)), "--duration", str(scenario.duration)]
    elif scenario.kind == "storm":
        argv += ["storm", "--sockets", str(scenario.sockets)]
    else:
        command = scenario.name if scenario.name in loadgen.PRESETS else "traffic"
        argv += [command, "--rate", str(scenario.rate), "--duration", str(scenario.duration)]
    argv += ["--plan", str(plan_path), "--out", str(out), "--label", label]
    if pids:
        argv += ["--server-pid", ",".join(map(str, pids))]
    return argv


def cpus_busy(cpu_lists: list[str], sample: float = 1.0) -> float:
    """Highest busy share among the CPUs named by taskset-style lists, over ``sample`` seconds."""
    cpus = set()
    for spec in cpu_lists:
        for part in spec.split(","):
            lo, _, hi = part.partition("-")
            cpus.update(range(int(lo), int(hi or lo) + 1))
    before = loadgen.cpu_times()
    time.sleep(sample)
    after = loadgen.cpu_times()
    shares = []
    for cpu in cpus:
        b0, t0 = before.get(f"cpu{cpu}", (0, 0))
        b1, t1 = after.get(f"cpu{cpu}", (0, 0))
        if t1 > t0:
            shares.append((b1 - b0) / (t1 - t0))
    return max(shares, default=0.0)


def wait_until_idle(cpu_lists: list[str], limit_s: float, threshold: float = 0.15) -> float:
    """Wait (up to ``limit_s``) until other work leaves the benchmark CPUs alone; return the last busy share."""
    deadline = time.monotonic() + limit_s
    busy = cpus_busy(cpu_lists)
    while busy > threshold and time.monotonic() < deadline:
        print(f"   benchmark CPUs {busy:.0%} busy with other work; waiting", flush=True)
        time.sleep(4)
        busy = cpus_busy(cpu_lists)
    return busy


def run_one(target_name: str, scenario: Scenario, ctx: RunContext, loadgen_prefix: list[str], out_dir: Path) -> dict:
    label = f"{target_name}/{scenario.name}"
    out = out_dir / f"{target_name}-{scenario.name}.json"
    started = time.monotonic()
    running = TARGETS[target_name](scenario, ctx)
    try:
        plan_path = ctx.workdir / f"plan-{target_name}-{scenario.name}.json"
        plan_path.write_text(json.dumps(running.plan))
        argv = [*loadgen_prefix, ctx.python, *loadgen_argv(scenario, plan_path, running.pids, out, label)]
        timeout = scenario.duration * 2 + 180
        if scenario.kind == "ramp":  # each step reconnects, sends and drains
            timeout = len(scenario.rates) * (scenario.duration + 60) + 180
        elif scenario.kind == "storm":  # the initial open and the reconnect, each at the server's connect rate
            timeout = 600
        env = chatsite_env() if scenario.kind == "pages" else None  # its query count opens the bench database
        with (ctx.workdir / f"loadgen-{target_name}-{scenario.name}.log").open("wb") as log:
            proc = subprocess.run(
                argv, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False, env=env, cwd=PROJECT_DIR
            )
        alive = all(loadgen.proc_alive(pid) for pid in running.pids)
    finally:
        running.stop()
    result = json.loads(out.read_text()) if out.exists() else {"ok": False, "error": "no result written"}
    result["target"] = target_name
    result.setdefault("scenario", scenario.name)
    result["loadgen_exit"] = proc.returncode
    result["server_alive_at_end"] = alive
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def run_search(scenario: Scenario, out_dir: Path, pinned: bool) -> dict:
    """bench/search_bench.py in a subprocess: it loads its own database and starts its own server."""
    out = out_dir / f"chatsite-{scenario.name}.json"
    argv = [sys.executable, str(BENCH_DIR / "search_bench.py"), "--duration", str(scenario.duration)]
    argv += ["--messages", str(scenario.messages), "--out", str(out)] + ([] if pinned else ["--no-pin"])
    env = dict(os.environ)
    if scenario.messages != SCENARIOS["search"].messages:  # a smoke run's data does not replace the full load
        env["BENCH_SEARCH_DATABASE_URL"] = BENCH_SEARCH_DATABASE_URL + "_small"
    started = time.monotonic()
    with (RESULTS_DIR / "tmp" / "logs" / "search.log").open("wb") as log:
        proc = subprocess.run(
            argv, stdout=log, stderr=subprocess.STDOUT, timeout=3600, check=False, cwd=PROJECT_DIR, env=env
        )
    result = json.loads(out.read_text()) if out.exists() else {"ok": False, "error": "no result written"}
    result.update(target="chatsite", scenario=scenario.name, exit=proc.returncode)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def run_files(scenario: Scenario, out_dir: Path, pinned: bool, quick: bool) -> dict:
    """bench/files_bench.py in a subprocess: its own SQLite database, media folder and server."""
    out = out_dir / f"chatsite-{scenario.name}.json"
    argv = [sys.executable, str(BENCH_DIR / "files_bench.py"), "--duration", str(scenario.duration), "--out", str(out)]
    argv += (["--quick"] if quick else []) + ([] if pinned else ["--no-pin"])
    started = time.monotonic()
    with (RESULTS_DIR / "tmp" / "logs" / "files.log").open("wb") as log:
        proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, timeout=1800, check=False, cwd=PROJECT_DIR)
    result = json.loads(out.read_text()) if out.exists() else {"ok": False, "error": "no result written"}
    result.update(target="chatsite", scenario=scenario.name, exit=proc.returncode)
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    return result


def summarise(result: dict) -> dict:
    row = {
        "target": result.get("target"),
        "scenario": result.get("scenario"),
        "ok": result.get("ok"),
        "elapsed_s": result.get("elapsed_s"),
    }
    if "skipped" in result:
        row["skipped"] = result["skipped"]
        return row
    if "error" in result:
        row["error"] = result["error"]
        return row
    if result.get("scenario") == "pages":
        for name, ep in result.get("endpoints", {}).items():
            row[f"{name}_rps"] = ep["requests_per_s"]
            row[f"{name}_p50_ms"] = ep["latency_ms"]["p50"]
            row[f"{name}_p99_ms"] = ep["latency_ms"]["p99"]
            row[f"{name}_cpu_ms_per_request"] = ep["server"]["cpu_ms_per_request"]
        row["queries"] = result.get("queries")
        return row
    if result.get("scenario") == "files":
        for upload in result.get("uploads", []):
            size = f"{upload['size_mib']}mib"
            row[f"upload_{size}_mib_per_s"] = upload["upload_mib_per_s"]
            row[f"download_{size}_mib_per_s"] = upload["download_mib_per_s"]
            row[f"rss_{size}_before_peak_mib"] = [upload["server_rss_mib"]["before"], upload["server_rss_mib"]["peak"]]
        row["page_queries"] = result.get("page_queries")
        row["page_p99_ms"] = result.get("page", {}).get("latency_ms", {}).get("p99")
        return row
    if result.get("scenario") == "search":
        for kind, q in result.get("queries", {}).items():
            row[f"{kind}_sql_p99_ms"] = q["sql"]["latency_ms"].get("p99")
            row[f"{kind}_http_p99_ms"] = q.get("http", {}).get("latency_ms", {}).get("p99")
            row[f"{kind}_errors"] = q["sql"]["errors"] + q.get("http", {}).get("errors", 0)
        row["index"] = result.get("index")
        row["extra_cpu_ms_per_message"] = result.get("extra_cpu", {}).get("extra_ms_per_message")
        return row
    if result.get("scenario") == "ramp":
        row.update(
            max_rate_held=result.get("max_rate_held"),
            stopped_by=result.get("stopped_by"),
            generator_bound=result.get("generator_bound"),
        )
        row["steps"] = [
            {
                "rate": step["rate"],
                "held": loadgen.ramp_step_verdict(step["result"], result.get("params", {}).get("p99_limit_ms", 25))
                is None,
                "p50_ms": step["result"].get("latency_ms", {}).get("p50"),
                "p99_ms": step["result"].get("latency_ms", {}).get("p99"),
                "lost": step["result"].get("lost"),
                "ack_missing": step["result"].get("ack_missing"),
                "server_cpu_util": step["result"].get("server", {}).get("cpu_util"),
                "generator_saturated": step["result"].get("generator", {}).get("saturated"),
                "host_disturbed": step["result"].get("host_disturbed"),
            }
            for step in result.get("steps", [])
        ]
        return row
    if result.get("scenario") == "storm":
        storm, messages = result.get("storm", {}), result.get("messages", {})
        row.update(
            sockets=storm.get("sockets"),
            all_back_s=storm.get("all_back_s"),
            connects_per_s=storm.get("connects_per_s"),
            refused=storm.get("refused"),
            timed_out=storm.get("timed_out"),
            messages_sent=messages.get("sent"),
            messages_delivered=messages.get("delivered"),
            messages_p99_ms=messages.get("latency_ms", {}).get("p99"),
            messages_lost=messages.get("lost"),
            messages_duplicated=messages.get("duplicated"),
            messages_out_of_order=messages.get("out_of_order"),
            generator_saturated=result.get("generator", {}).get("saturated"),
            host_disturbed=result.get("host", {}).get("disturbed"),
        )
        return row
    if result.get("scenario") == "capacity":
        last = result["steps"][-1] if result.get("steps") else {}
        row.update(
            max_open=result.get("max_open"),
            stopped_by=result.get("stopped_by"),
            last_step=last.get("step"),
            hello_p50_ms=last.get("hello_ms", {}).get("p50"),
            hello_p99_ms=last.get("hello_ms", {}).get("p99"),
            server_baseline_rss_mb=result.get("server", {}).get("baseline_rss_mb"),
            server_rss_mb=last.get("server_rss_mb"),
            # The process's RSS over its baseline (started, no socket yet) divided by the sockets open: the app
            # and the WebSocket server together (one process).
            server_rss_per_socket_kb=last.get("server_rss_per_socket_kb"),
            server_rss_marginal_per_socket_kb=last.get("server_rss_marginal_per_socket_kb"),
            host_disturbed=result.get("host", {}).get("disturbed"),
        )
        return row
    lat = result["latency_ms"]
    server = result.get("server", {})
    row.update(
        sent=result["sent"],
        delivered=result["delivered"],
        lost=result["lost"],
        duplicated=result["duplicated"],
        out_of_order=result["out_of_order"],
        p50_ms=lat["p50"],
        p95_ms=lat["p95"],
        p99_ms=lat["p99"],
        max_ms=lat["max"],
        deliveries_per_s=result["throughput"]["deliveries_per_s"],
        server_cpu_s=server.get("cpu_s"),
        server_cpu_s_per_1000=server.get("cpu_s_per_1000_deliveries"),
        server_cpu_util=server.get("cpu_util"),
        server_peak_rss_mb=server.get("peak_rss_mb"),
        generator_cpu_util=result["generator"]["cpu_util"],
        generator_saturated=result["generator"]["saturated"],
        host_disturbed=result.get("host", {}).get("disturbed"),
        host_foreign_busy=result.get("host", {}).get("foreign_busy"),
    )
    return row


def print_table(rows: list[dict]) -> None:
    traffic = [r for r in rows if r.get("scenario") in ("fanout", "rooms", "traffic") and "error" not in r]
    if traffic:
        head = f"{'target':<15}{'scenario':<10}{'deliv/s':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
        head += f"{'cpu/1k':>9}{'lost':>6}{'dup':>5}{'ooo':>5}{'gen%':>6}  disturbed"
        print(head)
        for r in traffic:
            print(
                f"{r['target']:<15}{r['scenario']:<10}{r['deliveries_per_s']:>9.0f}{r['p50_ms']:>8.2f}"
                f"{r['p95_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['max_ms']:>8.2f}{r['server_cpu_s_per_1000'] or 0:>9.4f}"
                f"{r['lost']:>6}{r['duplicated']:>5}{r['out_of_order']:>5}{r['generator_cpu_util'] * 100:>6.0f}"
                f"  {'yes' if r['host_disturbed'] else 'no'}"
            )
    for r in rows:
        if r.get("scenario") == "capacity" and "error" not in r:
            print(
                f"{r['target']:<15}capacity  open={r['max_open']} hello p50/p99={r['hello_p50_ms']}/"
                f"{r['hello_p99_ms']} ms, server RSS {r['server_rss_mb']} MB "
                f"({r['server_rss_per_socket_kb']} KB/socket), stopped_by={r['stopped_by']}"
            )
        elif r.get("scenario") == "ramp" and "error" not in r:
            steps = ", ".join(f"{s['rate']}/s p99 {s['p99_ms']} ms" for s in r["steps"])
            print(f"{r['target']:<15}ramp      held {r['max_rate_held']}/s ({steps}); stopped_by={r['stopped_by']}")
        elif r.get("scenario") == "storm" and "error" not in r:
            print(
                f"{r['target']:<15}storm     {r['sockets']} sockets back in {r['all_back_s']} s "
                f"({r['connects_per_s']}/s), refused {r['refused']}, timed out {r['timed_out']}, "
                f"messages meanwhile p99 {r['messages_p99_ms']} ms, lost {r['messages_lost']}"
            )
        elif r.get("scenario") == "files" and "error" not in r:
            print(
                f"{r['target']:<15}files     "
                + json.dumps({k: v for k, v in r.items() if k not in ("target", "scenario")})
            )
        elif r.get("scenario") == "search" and "error" not in r:
            print(
                f"{r['target']:<15}search    "
                + json.dumps({k: v for k, v in r.items() if k not in ("target", "scenario")})
            )
        elif r.get("scenario") == "pages" and "error" not in r:
            print(
                f"{r['target']:<15}pages     "
                + json.dumps({k: v for k, v in r.items() if k not in ("target", "scenario")})
            )
        elif "error" in r:
            print(f"{r['target']:<15}{r['scenario']:<10}ERROR {r['error']}")
        elif "skipped" in r:
            print(f"{r['target']:<15}skipped: {r['skipped']}")


def command_output(argv: list[str], cwd: Path | None = None) -> str | None:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def environment(pinned: bool, server_cpu: str, loadgen_cpu: str) -> dict:
    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    ws_version = None
    with contextlib.suppress(OSError, KeyError, ValueError):
        lock = json.loads((NODE_PEER_DIR / "package-lock.json").read_text())
        ws_version = lock["packages"]["node_modules/ws"]["version"]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "websockets": loadgen.websockets.__version__,
        "node": command_output(["node", "--version"]),
        "ws": ws_version,
        "pinned": pinned,
        "server_cpu": server_cpu if pinned else None,
        "loadgen_cpu": loadgen_cpu if pinned else None,
    }


def csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=csv, default=DEFAULT_TARGETS, help=f"comma list of {', '.join(TARGETS)}")
    parser.add_argument("--scenarios", type=csv, help=f"comma list of {', '.join(SCENARIOS)} (default all)")
    parser.add_argument("--duration", type=float, help="override the traffic scenarios' sending time (seconds)")
    parser.add_argument("--steps", type=loadgen.int_list, help="override the capacity steps, e.g. 200,500")
    parser.add_argument("--ramp-rates", type=loadgen.int_list, help="override the ramp's rates, e.g. 20,40")
    parser.add_argument("--storm-sockets", type=int, help="override the storm's socket count, e.g. 200")
    parser.add_argument("--out-dir", type=Path, help="default bench/results, or bench/results/tmp with overrides")
    parser.add_argument("--server-cpu", default="0", help="CPU list for the server (taskset -c)")
    parser.add_argument("--loadgen-cpu", default="1", help="CPU list for the load generator (taskset -c)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin with taskset")
    parser.add_argument(
        "--nice", type=int, default=0, help="run the server and generator under nice -n N (negative needs root)"
    )
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="S", help="before each run, wait up to S seconds for idle CPUs"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the chat server (repeatable), e.g. DB_POOL=16; use with --out-dir",
    )
    args = parser.parse_args(argv)

    scenarios_given = args.scenarios is not None
    args.scenarios = args.scenarios or list(SCENARIOS)
    unknown = [t for t in args.targets if t not in TARGETS] + [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown target or scenario: {', '.join(unknown)}")
    overridden = any(v is not None for v in (args.duration, args.steps, args.ramp_rates, args.storm_sockets))
    out_dir = args.out_dir or (RESULTS_DIR / "tmp" if overridden else RESULTS_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = RESULTS_DIR / "tmp" / "logs"  # server and load generator logs, plans (not committed)
    workdir.mkdir(parents=True, exist_ok=True)

    pinned = not args.no_pin and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    if not args.no_pin and not pinned:
        print("warning: taskset or a second CPU is missing; running unpinned", file=sys.stderr)
    nice = ["nice", "-n", str(args.nice)] if args.nice else []
    server_prefix = [*nice, "taskset", "-c", args.server_cpu] if pinned else nice
    loadgen_prefix = [*nice, "taskset", "-c", args.loadgen_cpu] if pinned else nice
    # A terminated orchestrator still stops the server it started (finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    loadgen.raise_nofile_limit(loadgen.NOFILE_WANTED)  # inherited by the servers and the load generator
    server_env = dict(item.split("=", 1) for item in args.server_env)
    ctx = RunContext(
        workdir=workdir, server_prefix=server_prefix, server_env=server_env, generator_prefix=loadgen_prefix
    )

    started = time.monotonic()
    results = []
    for target_name in args.targets:
        skipped = skip_reason(target_name)
        if skipped:
            print(f"== {target_name}: skipped: {skipped}", flush=True)
            results.append({"target": target_name, "scenario": None, "ok": None, "skipped": skipped})
            continue
        for scenario_name in args.scenarios:
            scenario = SCENARIOS[scenario_name]
            if scenario.kind == "pages" and target_name not in HTTP_TARGETS:
                continue
            if not scenarios_given and scenario_name not in DEFAULT_SCENARIOS_OF.get(target_name, (scenario_name,)):
                continue
            if scenario.kind == "files":
                if target_name != "chatsite":
                    continue
                print(f"== {target_name} / {scenario_name}", flush=True)
                result = run_files(
                    replace(scenario, duration=args.duration or scenario.duration), out_dir, pinned, overridden
                )
                results.append(result)
                print(json.dumps(summarise(result)), flush=True)
                continue
            if scenario.kind == "search":
                if target_name != "chatsite":
                    continue
                if overridden:  # a smoke run: a tenth of the data
                    scenario = replace(scenario, messages=scenario.messages // 10, duration=args.duration or 2.0)
                print(f"== {target_name} / {scenario_name}", flush=True)
                result = run_search(scenario, out_dir, pinned)
                results.append(result)
                print(json.dumps(summarise(result)), flush=True)
                continue
            if args.duration is not None and scenario.kind in ("traffic", "pages", "ramp"):
                scenario = replace(scenario, duration=args.duration)
            if args.ramp_rates is not None and scenario.kind == "ramp":
                scenario = replace(scenario, rates=tuple(args.ramp_rates))
            if args.storm_sockets is not None and scenario.kind == "storm":
                scenario = replace(scenario, sockets=args.storm_sockets)
            if args.steps is not None and scenario.kind == "capacity":
                scenario = replace(scenario, steps=tuple(args.steps))
            print(f"== {target_name} / {scenario_name}", flush=True)
            if args.wait_idle > 0 and pinned:
                wait_until_idle([args.server_cpu, args.loadgen_cpu], args.wait_idle)
            try:
                result = run_one(target_name, scenario, ctx, loadgen_prefix, out_dir)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                result = {"target": target_name, "scenario": scenario_name, "ok": False, "error": str(exc)}
            results.append(result)
            print(json.dumps(summarise(result)), flush=True)

    rows = [summarise(r) for r in results]
    summary = {
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "elapsed_s": round(time.monotonic() - started, 1),
        "overrides": {
            "duration": args.duration,
            "steps": args.steps,
            "ramp_rates": args.ramp_rates,
            "storm_sockets": args.storm_sockets,
            "server_env": server_env,
        },
        "environment": {**environment(pinned, args.server_cpu, args.loadgen_cpu), "nice": args.nice},
        "runs": rows,
        "scorecard": scorecard.scorecard(rows),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print()
    print_table(rows)
    print("\nIssue 17's figures (ratios: chatsite / peer)\n")
    print(scorecard.render_markdown(summary["scorecard"]))
    print(f"\nresults in {out_dir} ({summary['elapsed_s']} s)")
    return 0 if all(r.get("ok") for r in rows if "skipped" not in r) else 1


if __name__ == "__main__":
    sys.exit(main())
