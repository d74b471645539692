"""Open-loop WebSocket load generator for the chat server and the reference peers.

Every target speaks the chat server's public frames (``hello``, ``message.send``, ``message.ack``,
``message.new``), so one generator drives them all from a JSON *plan* (see ``bench/README.md``)::

    python bench/loadgen.py fanout   --peer ws://127.0.0.1:8765/ws/ --server-pid 1234
    python bench/loadgen.py rooms    --plan plan.json --duration 10 --out result.json
    python bench/loadgen.py capacity --peer ws://127.0.0.1:8765/ws/ --steps 500,1000,2000,5000
    python bench/loadgen.py ramp     --peer ws://127.0.0.1:8765/ws/ --rates 100,200,400,700,1000
    python bench/loadgen.py storm    --peer ws://127.0.0.1:8765/ws/ --sockets 5000
    python bench/loadgen.py peer-plan --url ws://127.0.0.1:8765/ws/ --rooms 1 --members 100

Traffic runs are open loop: message ``k`` is sent at ``start + k / rate`` whatever the server does, and each
body carries ``<nonce>:<k>:<sender>:<monotonic_ns>`` so each recipient measures send-to-receipt latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import json
import os
import platform
import resource
import secrets
import sys
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.protocol import State

DEFAULT_STEPS = (500, 1000, 2000, 5000, 10000)
# Open files the orchestrator asks for (servers and generator inherit it): 10,000 idle sockets in one server and
# the generator, the storm's 5,000 twice over, and nginx's two descriptors per proxied socket.
NOFILE_WANTED = 32768
CLK_TCK = os.sysconf("SC_CLK_TCK")
MB = 1024 * 1024

# Scenario presets: topology (used when the generator builds a peer plan) and traffic shape.
PRESETS: dict[str, dict] = {
    "fanout": {"rooms": 1, "members": 100, "rate": 20.0, "duration": 30.0},
    "rooms": {"rooms": 100, "members": 10, "rate": 100.0, "duration": 30.0},
    "traffic": {"rooms": 1, "members": 10, "rate": 10.0, "duration": 10.0},
    "capacity": {"rooms": 100, "members": 10},
    "ramp": {"rooms": 100, "members": 10},
    "storm": {"rooms": 100, "members": 10},
}


# --------------------------------------------------------------------------------------------- plan


def build_peer_plan(url: str, rooms: int, members: int, *, name: str = "peer", first_room: int = 1) -> dict:
    """Plan for a reference peer: ``rooms`` rooms of ``members`` sockets, each joining by ``?rooms=``."""
    parts = urlsplit(url)
    clients = []
    for room in range(first_room, first_room + rooms):
        query = urlencode({"rooms": str(room)})
        client_url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/ws/", query, ""))
        clients.extend({"url": client_url, "conversations": [room]} for _ in range(members))
    return {"name": name, "url": url, "clients": clients}


def load_plan(path: str | os.PathLike) -> dict:
    plan = json.loads(Path(path).read_text())
    validate_plan(plan)
    return plan


def validate_plan(plan: dict) -> None:
    if not isinstance(plan.get("clients"), list) or not plan["clients"]:
        raise ValueError("plan needs a non-empty 'clients' list")
    for i, client in enumerate(plan["clients"]):
        if not (client.get("url") or plan.get("url")):
            raise ValueError(f"client {i} has no 'url' and the plan has no top-level 'url'")
        convs = client.get("conversations")
        if convs is not None and not all(isinstance(c, int) for c in convs):
            raise ValueError(f"client {i}: 'conversations' must be a list of integer ids")


def client_endpoint(plan: dict, client: dict) -> tuple[str, dict[str, str], str | None]:
    url = client.get("url") or plan["url"]
    headers = dict(plan.get("headers") or {})
    headers.update(client.get("headers") or {})
    if client.get("cookie"):
        headers["Cookie"] = client["cookie"]
    origin = client.get("origin") or plan.get("origin")
    return url, headers, origin


def describe_plan(plan: dict) -> dict:
    members: Counter[int] = Counter()
    for client in plan["clients"]:
        members.update(client.get("conversations") or [])
    return {
        "name": plan.get("name"),
        "url": plan.get("url") or plan["clients"][0].get("url"),
        "clients": len(plan["clients"]),
        "conversations": len(members),
        "members_min": min(members.values(), default=0),
        "members_max": max(members.values(), default=0),
    }


# ---------------------------------------------------------------------------------- process probes


def raise_nofile_limit(want: int = 0) -> tuple[int, int]:
    """Raise the open-files soft limit to the hard limit; when ``want`` is above the hard limit, raise that too if
    this process may (root or CAP_SYS_RESOURCE, up to fs.nr_open). Children inherit the result."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and want > hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def ephemeral_ports() -> int | None:
    """How many local ports the kernel hands out to outgoing connections (net.ipv4.ip_local_port_range): every
    socket to one server address needs its own."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return None
    return high - low + 1


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def proc_cpu_seconds(pids) -> float | None:
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def proc_rss_bytes(pids, key: str = "VmRSS") -> int | None:
    total = 0
    for pid in pids:
        kb = _status_kb(pid, key)
        if kb is None:
            return None
        total += kb * 1024
    return total


def proc_fd_count(pid: int | str) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def proc_fd_limit(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return None if soft == "unlimited" else int(soft)
    except OSError:
        return None
    return None


def proc_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def mem_available_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_times() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat."""
    out = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("cpu") and line[3:4].isdigit():
                name, *vals = line.split()
                ticks = [int(v) for v in vals[:8]]
                out[name] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
    return out


def affinity(pids) -> set[int]:
    cpus: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            cpus |= os.sched_getaffinity(pid)
    return cpus


def host_block(
    before: dict[str, tuple[int, int]],
    loadavg_before: str | None,
    pids=(),
    server_util: float | None = None,
    generator_util: float | None = None,
) -> dict:
    """How busy each CPU was over the window, and how much of that was neither the server nor the generator.

    ``foreign_busy`` is the busy share of the pinned CPUs minus what the pinned process used itself: well above
    zero means other work shared the cores and the figures are disturbed.
    """
    after = cpu_times()
    busy = {}
    for name, (b1, t1) in after.items():
        b0, t0 = before.get(name, (b1, t1))
        busy[name] = round((b1 - b0) / (t1 - t0), 3) if t1 > t0 else None
    all_cpus = set(range(os.cpu_count() or 1))
    foreign = {}
    for role, cpus, util in (
        ("server_cpus", affinity(pids), server_util),
        ("generator_cpus", affinity([0]), generator_util),
    ):
        if cpus and cpus != all_cpus and util is not None:
            shares = [busy.get(f"cpu{c}") for c in cpus]
            if all(v is not None for v in shares):
                foreign[role] = round(sum(shares) - util, 3)
    return {
        "cpu_busy": busy,
        "foreign_busy": foreign,
        "disturbed": any(v > 0.15 for v in foreign.values()),
        "loadavg_start": loadavg_before,
        "loadavg_end": loadavg(),
    }


def loadavg() -> str | None:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return None


class ServerSampler:
    """Samples the summed RSS of the server processes in the background to find the peak."""

    def __init__(self, pids, interval: float = 0.1) -> None:
        self.pids = list(pids)
        self.interval = interval
        self.peak_rss = 0
        self.samples = 0
        self._task: asyncio.Task | None = None

    def sample(self) -> int | None:
        rss = proc_rss_bytes(self.pids)
        if rss is not None:
            self.peak_rss = max(self.peak_rss, rss)
            self.samples += 1
        return rss

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.pids:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self.sample()


# -------------------------------------------------------------------------------------------- stats


def pct(values, scale: float = 1.0) -> dict:
    """Nearest-rank percentiles of ``values`` multiplied by ``scale``, rounded for reporting."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    data = sorted(values)
    n = len(data)

    def rank(q: float) -> float:
        return data[min(n - 1, max(0, int(-(-q * n // 1)) - 1))] * scale

    return {
        "count": n,
        "p50": round(rank(0.50), 3),
        "p95": round(rank(0.95), 3),
        "p99": round(rank(0.99), 3),
        "max": round(data[-1] * scale, 3),
        "mean": round(sum(data) / n * scale, 3),
    }


def mb(value: int | None) -> float | None:
    return None if value is None else round(value / MB, 2)


# ------------------------------------------------------------------------------------- connections


class StampedConnection(ClientConnection):
    """Client connection that notes when each data frame reached the process.

    The stamp is taken when the event loop hands the socket's bytes to the connection, before the frame waits for
    the reading coroutine, so latencies do not include the generator's own queueing behind other sockets.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rx_stamps: deque[int] = deque()
        self._rx_now = 0

    def data_received(self, data: bytes) -> None:
        self._rx_now = time.monotonic_ns()
        super().data_received(data)

    def process_event(self, event) -> None:
        if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.rx_stamps.append(self._rx_now)
        super().process_event(event)

    def pop_stamp(self) -> int:
        return self.rx_stamps.popleft() if self.rx_stamps else time.monotonic_ns()


@dataclass
class Client:
    idx: int
    ws: StampedConnection
    hello: dict
    hello_ms: float
    conversations: list[int]
    # Per-conversation delivery state.
    got: dict[int, set[int]] = field(default_factory=dict)
    seqs: dict[int, set[int]] = field(default_factory=dict)
    last_seq: dict[int, int] = field(default_factory=dict)
    closed: bool = False
    close_reason: str | None = None

    def __post_init__(self) -> None:
        self.conv_set = set(self.conversations)


async def open_client(plan: dict, idx: int, spec: dict, timeout: float) -> Client:
    """Connect, wait for ``hello`` and return the client; the time measured is connect start to hello."""
    url, headers, origin = client_endpoint(plan, spec)
    started = time.perf_counter()
    ws = await connect(
        url,
        additional_headers=headers or None,
        origin=origin,
        compression=None,
        proxy=None,
        open_timeout=timeout,
        ping_interval=None,
        close_timeout=2,
        max_size=2**20,
        max_queue=256,
        create_connection=StampedConnection,
    )
    try:
        async with asyncio.timeout(timeout):
            while True:
                frame = json.loads(await ws.recv())
                ws.pop_stamp()
                if frame.get("type") == "hello":
                    break
    except BaseException:
        await ws.close()
        raise
    hello_ms = (time.perf_counter() - started) * 1000
    convs = spec.get("conversations")
    if convs is None:
        convs = [c["id"] for c in frame.get("conversations", [])]
    return Client(idx=idx, ws=ws, hello=frame, hello_ms=hello_ms, conversations=list(convs))


async def open_many(
    plan: dict, indices, concurrency: int, timeout: float, *, stop_on_failure: bool = False
) -> tuple[list[Client], list[BaseException]]:
    """Open clients ``indices`` (cycling through the plan's clients) with bounded concurrency.

    With ``stop_on_failure``, attempts not yet started are skipped once one fails (those in flight still finish).
    """
    specs = plan["clients"]
    sem = asyncio.Semaphore(concurrency)
    failed = asyncio.Event()

    async def one(i: int) -> Client | None:
        async with sem:
            if stop_on_failure and failed.is_set():
                return None
            try:
                return await open_client(plan, i, specs[i % len(specs)], timeout)
            except Exception:
                failed.set()
                raise

    results = await asyncio.gather(*(one(i) for i in indices), return_exceptions=True)
    clients = [r for r in results if isinstance(r, Client)]
    failures = [r for r in results if isinstance(r, BaseException)]
    return clients, failures


async def close_all(clients, concurrency: int = 500) -> None:
    sem = asyncio.Semaphore(concurrency)

    async def one(c: Client) -> None:
        async with sem:
            with contextlib.suppress(Exception):
                await c.ws.close()

    await asyncio.gather(*(one(c) for c in clients))


def describe_exc(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"InvalidStatus: HTTP {exc.response.status_code}"
    return f"{type(exc).__name__}: {exc}"[:200]


# ----------------------------------------------------------------------------------------- traffic


@dataclass
class TrafficState:
    nonce: str
    msg_conv: list[int]
    expected: int = 0
    delivered: int = 0
    sending_done: bool = False
    closing: bool = False
    latencies_ns: list[int] = field(default_factory=list)
    handled_latencies_ns: list[int] = field(default_factory=list)
    ack_latencies_ns: list[int] = field(default_factory=list)
    ack_pending: dict[str, int] = field(default_factory=dict)
    duplicated: int = 0
    duplicated_body: int = 0
    out_of_order: int = 0
    foreign: int = 0
    unexpected_conversation: int = 0
    misrouted: int = 0
    other_frames: int = 0
    bad_frames: int = 0
    errors: Counter = field(default_factory=Counter)
    disconnects: Counter = field(default_factory=Counter)
    last_delivery_ns: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def check_done(self) -> None:
        if self.sending_done and self.delivered >= self.expected:
            self.done.set()


def handle_new(client: Client, st: TrafficState, msg: dict, now: int, handled: int, prefix: str) -> None:
    """Account for one ``message.new`` at one client."""
    conv = msg["conversation"]
    body = msg.get("body") or ""
    if not body.startswith(prefix):
        st.foreign += 1
        return
    if conv not in client.conv_set:
        st.unexpected_conversation += 1
        return
    _, k, _, sent_ns = body.split(":")
    k, sent_ns = int(k), int(sent_ns)
    seq = msg.get("seq")
    if seq is not None:
        seen = client.seqs.setdefault(conv, set())
        if seq in seen:
            st.duplicated += 1
            return
        seen.add(seq)
        if seq < client.last_seq.get(conv, 0):
            st.out_of_order += 1
        else:
            client.last_seq[conv] = seq
    if k >= len(st.msg_conv) or st.msg_conv[k] != conv:
        st.misrouted += 1
        return
    got = client.got.setdefault(conv, set())
    if k in got:
        st.duplicated_body += 1
        return
    got.add(k)
    st.latencies_ns.append(now - sent_ns)
    st.handled_latencies_ns.append(handled - sent_ns)
    st.last_delivery_ns = now
    st.delivered += 1
    if st.sending_done and st.delivered >= st.expected:
        st.done.set()


async def read_loop(client: Client, st: TrafficState) -> None:
    ws = client.ws
    prefix = st.nonce + ":"
    try:
        async for raw in ws:
            now = ws.pop_stamp()
            handled = time.monotonic_ns()
            try:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "message.new":
                    handle_new(client, st, frame["message"], now, handled, prefix)
                elif kind == "message.ack":
                    sent_ns = st.ack_pending.pop(frame.get("client_id"), None)
                    if sent_ns is not None:
                        st.ack_latencies_ns.append(now - sent_ns)
                elif kind == "error":
                    st.errors[str(frame.get("code") or frame.get("error") or "unknown")] += 1
                else:
                    st.other_frames += 1
            except (ValueError, KeyError, TypeError, AttributeError):
                st.bad_frames += 1
    except ConnectionClosed as exc:
        client.close_reason = f"{exc.rcvd.code if exc.rcvd else 'no close frame'}"
    finally:
        client.closed = True
        if not st.closing:
            st.disconnects[client.close_reason or "closed"] += 1


async def run_traffic(
    plan: dict,
    *,
    rate: float,
    duration: float,
    drain: float = 5.0,
    server_pids=(),
    connect_concurrency: int = 100,
    connect_timeout: float = 10.0,
    settle: float = 0.5,
    label: str | None = None,
) -> dict:
    """Open every client of the plan, send ``rate * duration`` messages on a fixed schedule, measure deliveries."""
    validate_plan(plan)
    server_pids = list(server_pids)
    nofile = raise_nofile_limit(NOFILE_WANTED)
    wall_start = time.time()

    clients, failures = await open_many(plan, range(len(plan["clients"])), connect_concurrency, connect_timeout)
    if failures:
        await close_all(clients)
        raise RuntimeError(
            f"{len(failures)} of {len(plan['clients'])} clients failed to connect; first: {describe_exc(failures[0])}"
        )
    hello_ms = [c.hello_ms for c in clients]

    members: dict[int, list[Client]] = {}
    for c in clients:
        for conv in c.conversations:
            members.setdefault(conv, []).append(c)
    convs = sorted(members)
    if not convs:
        await close_all(clients)
        raise RuntimeError("no client is a member of any conversation")

    total = round(rate * duration)
    st = TrafficState(nonce=secrets.token_hex(4), msg_conv=[0] * total)
    readers = [asyncio.create_task(read_loop(c, st)) for c in clients]
    sent_per_conv: Counter[int] = Counter()
    rotation: Counter[int] = Counter()
    lags_s: list[float] = []
    send_failed = 0

    await asyncio.sleep(settle)
    gc.collect()
    gc.freeze()
    sampler = ServerSampler(server_pids)
    sampler.start()
    rss_start = proc_rss_bytes(server_pids) if server_pids else None
    srv_cpu0 = proc_cpu_seconds(server_pids) if server_pids else None
    gen_cpu0 = self_cpu_seconds()
    host0, load0 = cpu_times(), loadavg()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.01
    first_send_ns = time.monotonic_ns()

    for k in range(total):
        target = start + k / rate
        delay = target - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags_s.append(max(0.0, loop.time() - target))
        conv = convs[k % len(convs)]
        group = members[conv]
        sender = group[rotation[conv] % len(group)]
        rotation[conv] += 1
        st.msg_conv[k] = conv
        if sender.closed:
            send_failed += 1
            continue
        client_id = str(uuid.uuid4())
        sent_ns = time.monotonic_ns()
        frame = json.dumps(
            {
                "type": "message.send",
                "conversation": conv,
                "body": f"{st.nonce}:{k}:{sender.idx}:{sent_ns}",
                "client_id": client_id,
            }
        )
        st.expected += len(group)
        st.ack_pending[client_id] = sent_ns
        sent_per_conv[conv] += 1
        try:
            await sender.ws.send(frame)
        except ConnectionClosed:
            st.expected -= len(group)
            sent_per_conv[conv] -= 1
            st.ack_pending.pop(client_id, None)
            send_failed += 1
    last_send_ns = time.monotonic_ns()
    send_wall_s = (last_send_ns - first_send_ns) / 1e9

    st.sending_done = True
    st.check_done()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(st.done.wait(), timeout=drain)
    end_ns = time.monotonic_ns()
    gen_cpu = self_cpu_seconds() - gen_cpu0
    srv_cpu1 = proc_cpu_seconds(server_pids) if server_pids else None
    window_s = (end_ns - first_send_ns) / 1e9
    host = host_block(
        host0,
        load0,
        server_pids,
        None if srv_cpu0 is None or srv_cpu1 is None else (srv_cpu1 - srv_cpu0) / window_s,
        gen_cpu / window_s,
    )
    await sampler.stop()
    rss_end = proc_rss_bytes(server_pids) if server_pids else None
    hwm = proc_rss_bytes(server_pids, "VmHWM") if server_pids else None
    drained = st.done.is_set()

    st.closing = True
    await close_all(clients)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    gc.unfreeze()

    lost = 0
    for c in clients:
        for conv in c.conversations:
            lost += sent_per_conv[conv] - len(c.got.get(conv, ()))
    active_s = max(1e-9, ((st.last_delivery_ns or end_ns) - first_send_ns) / 1e9)
    srv_cpu = None if srv_cpu0 is None or srv_cpu1 is None else srv_cpu1 - srv_cpu0
    lag = pct(lags_s, 1000)
    gen_util = gen_cpu / window_s if window_s > 0 else 0.0
    saturated_reasons = []
    if gen_util > 0.8:
        saturated_reasons.append(f"generator CPU at {gen_util:.0%} of one core")
    if lag["p99"] is not None and lag["p99"] > 20:
        saturated_reasons.append(f"send schedule slipped (p99 lag {lag['p99']} ms)")

    result = {
        "scenario": "traffic",
        "label": label,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall_start)),
        "plan": describe_plan_live(plan, members),
        "params": {"rate": rate, "duration": duration, "drain": drain},
        "connect": {"clients": len(clients), "hello_ms": pct(hello_ms)},
        "sent": sum(sent_per_conv.values()),
        "send_failed": send_failed,
        "expected_deliveries": st.expected,
        "delivered": st.delivered,
        "lost": lost,
        "duplicated": st.duplicated,
        "duplicated_body": st.duplicated_body,
        "out_of_order": st.out_of_order,
        "misrouted": st.misrouted,
        "foreign": st.foreign,
        "bad_frames": st.bad_frames,
        "other_frames": st.other_frames,
        "unexpected_conversation": st.unexpected_conversation,
        "drained": drained,
        "errors": dict(st.errors),
        "disconnects": dict(st.disconnects),
        "latency_ms": pct(st.latencies_ns, 1e-6),
        "latency_handled_ms": pct(st.handled_latencies_ns, 1e-6),
        "ack": {
            "received": len(st.ack_latencies_ns),
            "missing": len(st.ack_pending),
            "latency_ms": pct(st.ack_latencies_ns, 1e-6),
        },
        "throughput": {
            "offered_msgs_per_s": round(sum(sent_per_conv.values()) / send_wall_s, 2) if send_wall_s else None,
            "deliveries_per_s": round(st.delivered / active_s, 2),
            "send_wall_s": round(send_wall_s, 3),
            "window_s": round(window_s, 3),
        },
        "send_lag_ms": lag,
        "server": server_block(server_pids, srv_cpu, window_s, st.delivered, sampler.peak_rss, rss_start, rss_end, hwm),
        "generator": {
            "cpu_s": round(gen_cpu, 3),
            "cpu_util": round(gen_util, 3),
            "rlimit_nofile": list(nofile),
            "saturated": bool(saturated_reasons),
            "reasons": saturated_reasons,
        },
        "host": host,
        "env": env_block(),
    }
    result["ok"] = (
        lost == 0
        and st.duplicated == 0
        and st.out_of_order == 0
        and st.misrouted == 0
        and send_failed == 0
        and not st.errors
        and st.bad_frames == 0
    )
    return result


def describe_plan_live(plan: dict, members: dict[int, list]) -> dict:
    info = describe_plan(plan)
    sizes = [len(v) for v in members.values()]
    info.update(conversations=len(members), members_min=min(sizes), members_max=max(sizes))
    return info


def server_block(pids, cpu_s, window_s, deliveries, peak_rss, rss_start, rss_end, hwm) -> dict:
    if not pids:
        return {"pids": []}
    return {
        "pids": list(pids),
        "cpu_s": None if cpu_s is None else round(cpu_s, 3),
        "cpu_util": None if cpu_s is None or not window_s else round(cpu_s / window_s, 3),
        "cpu_s_per_1000_deliveries": None if cpu_s is None or not deliveries else round(cpu_s / deliveries * 1000, 4),
        "rss_start_mb": mb(rss_start),
        "rss_end_mb": mb(rss_end),
        "peak_rss_mb": mb(peak_rss or None),
        "vm_hwm_mb": mb(hwm),
    }


def env_block() -> dict:
    return {
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "cpus": os.cpu_count(),
        "affinity": sorted(os.sched_getaffinity(0)),
    }


# ---------------------------------------------------------------------------------------- capacity


def classify_failure(exc: BaseException, pids, min_mem_available: int) -> str:
    """Name the limit that most plausibly made a connection fail."""
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        return "client_fds" if exc.errno == errno.EMFILE else "system_fds"
    for pid in pids:
        limit, count = proc_fd_limit(pid), proc_fd_count(pid)
        if limit is not None and count is not None and count >= limit - 16:
            return "server_fds"
    avail = mem_available_bytes()
    if avail is not None and avail < min_mem_available:
        return "memory"
    if pids and not all(proc_alive(p) for p in pids):
        return "server_died"
    if isinstance(exc, TimeoutError):
        return "accept_time"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRNOTAVAIL:
        return "client_ports"
    return "error"


def fd_headroom_check(need: int, own_soft_limit: int, pids) -> dict | None:
    """Before a step: would ``need`` more sockets exceed our own or the server's open-files limit?"""
    own_fds = proc_fd_count("self") or 0
    if own_fds + need + 32 > own_soft_limit:
        return {"limit": "client_fds", "detail": f"RLIMIT_NOFILE soft={own_soft_limit}, {own_fds} open"}
    ports = ephemeral_ports()
    if ports is not None and own_fds + need + 256 > ports:
        return {"limit": "client_ports", "detail": f"{ports} local ports (net.ipv4.ip_local_port_range)"}
    if pids:
        srv_limit = sum(proc_fd_limit(p) or 10**9 for p in pids)
        srv_fds = sum(proc_fd_count(p) or 0 for p in pids)
        if srv_fds + need + 16 > srv_limit:
            return {"limit": "server_fds", "detail": f"server open files limit {srv_limit}, {srv_fds} open"}
    return None


async def run_capacity(
    plan: dict,
    *,
    steps=DEFAULT_STEPS,
    server_pids=(),
    connect_concurrency: int = 10,
    hello_timeout: float = 10.0,
    hold: float = 1.0,
    max_hello_ms: float = 5000.0,
    max_rss_mb: float | None = None,
    min_mem_available_mb: float = 1024.0,
    label: str | None = None,
) -> dict:
    """Open idle sockets in cumulative steps until a step fails; report hello times and server RSS per socket."""
    validate_plan(plan)
    server_pids = list(server_pids)
    nofile = raise_nofile_limit(NOFILE_WANTED)
    min_avail = int(min_mem_available_mb * MB)
    wall_start = time.time()
    baseline_rss = prev_rss = proc_rss_bytes(server_pids) if server_pids else None
    gen_cpu0 = self_cpu_seconds()
    srv_cpu0 = proc_cpu_seconds(server_pids) if server_pids else None
    host0, load0 = cpu_times(), loadavg()
    clients: list[Client] = []
    rows = []
    stopped_by = None

    for target in sorted(steps):
        need = target - len(clients)
        if need <= 0:
            continue
        stopped_by = fd_headroom_check(need, nofile[0], server_pids)
        if stopped_by:
            stopped_by["step"] = target
            break

        t0 = time.perf_counter()
        step_gen_cpu0 = self_cpu_seconds()
        step_srv_cpu0 = proc_cpu_seconds(server_pids) if server_pids else None
        opened, failures = await open_many(
            plan, range(len(clients), target), connect_concurrency, hello_timeout, stop_on_failure=True
        )
        open_s = time.perf_counter() - t0
        step_gen_cpu = self_cpu_seconds() - step_gen_cpu0
        step_srv_cpu1 = proc_cpu_seconds(server_pids) if server_pids else None
        step_srv_cpu = None if step_srv_cpu0 is None or step_srv_cpu1 is None else step_srv_cpu1 - step_srv_cpu0
        clients.extend(opened)
        await asyncio.sleep(hold)
        alive = sum(1 for c in clients if c.ws.state is State.OPEN)
        rss = proc_rss_bytes(server_pids) if server_pids else None
        hello = pct([c.hello_ms for c in opened])
        row = {
            "step": target,
            "open": len(clients),
            "alive_after_hold": alive,
            "failed": len(failures),
            "failure_kinds": dict(Counter(describe_exc(f) for f in failures).most_common(5)),
            "hello_ms": hello,
            "open_s": round(open_s, 3),
            "sockets_per_s": round(len(opened) / open_s, 1) if open_s else None,
            "generator_cpu_util": round(step_gen_cpu / open_s, 3) if open_s else None,
            "generator_saturated": bool(open_s and step_gen_cpu / open_s > 0.8),
            "server_cpu_util": round(step_srv_cpu / open_s, 3) if open_s and step_srv_cpu is not None else None,
            "server_rss_mb": mb(rss),
            "server_rss_per_socket_kb": (
                round((rss - baseline_rss) / len(clients) / 1024, 2) if rss and baseline_rss and clients else None
            ),
            "server_rss_marginal_per_socket_kb": (
                round((rss - prev_rss) / len(opened) / 1024, 2) if rss and prev_rss and opened else None
            ),
            "server_fds": sum(proc_fd_count(p) or 0 for p in server_pids) if server_pids else None,
            "generator_rss_mb": mb(proc_rss_bytes([os.getpid()])),
            "mem_available_mb": mb(mem_available_bytes()),
        }
        rows.append(row)
        prev_rss = rss
        avail = mem_available_bytes()
        if failures:
            kinds = Counter(classify_failure(f, server_pids, min_avail) for f in failures)
            stopped_by = {"limit": kinds.most_common(1)[0][0], "step": target, "detail": describe_exc(failures[0])}
        elif alive < len(clients):
            stopped_by = {"limit": "dropped", "step": target, "detail": f"{len(clients) - alive} sockets closed"}
        elif hello["p99"] is not None and hello["p99"] > max_hello_ms:
            stopped_by = {"limit": "accept_time", "step": target, "detail": f"hello p99 {hello['p99']} ms"}
        elif max_rss_mb is not None and rss is not None and rss > max_rss_mb * MB:
            stopped_by = {"limit": "memory", "step": target, "detail": f"server RSS {mb(rss)} MB > {max_rss_mb}"}
        elif avail is not None and avail < min_avail:
            stopped_by = {"limit": "memory", "step": target, "detail": f"MemAvailable {mb(avail)} MB"}
        if stopped_by:
            break

    gen_cpu = self_cpu_seconds() - gen_cpu0
    srv_cpu1 = proc_cpu_seconds(server_pids) if server_pids else None
    elapsed = time.time() - wall_start
    host = host_block(
        host0,
        load0,
        server_pids,
        None if srv_cpu0 is None or srv_cpu1 is None else (srv_cpu1 - srv_cpu0) / elapsed,
        gen_cpu / elapsed,
    )
    await close_all(clients)
    ok_steps = [r for r in rows if not r["failed"]]
    return {
        "scenario": "capacity",
        "label": label,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall_start)),
        "plan": describe_plan(plan),
        "params": {
            "steps": sorted(steps),
            "connect_concurrency": connect_concurrency,
            "hello_timeout": hello_timeout,
            "hold": hold,
            "max_hello_ms": max_hello_ms,
            "max_rss_mb": max_rss_mb,
            "min_mem_available_mb": min_mem_available_mb,
        },
        "steps": rows,
        "max_open": max((r["open"] for r in ok_steps), default=0),
        "peak_open": max((r["open"] for r in rows), default=0),
        "completed_all_steps": stopped_by is None,
        "stopped_by": stopped_by,
        "server": {
            "pids": server_pids,
            "baseline_rss_mb": mb(baseline_rss),
            "cpu_s": None if srv_cpu0 is None or srv_cpu1 is None else round(srv_cpu1 - srv_cpu0, 3),
        },
        "generator": {"cpu_s": round(gen_cpu, 3), "rlimit_nofile": list(nofile), "local_ports": ephemeral_ports()},
        "host": host,
        "env": env_block(),
        "ok": stopped_by is None,
    }


# -------------------------------------------------------------------------------------------- ramp

# Fine steps where one process and two stop (a ratio between them needs them), up to where the one Python
# generator runs out of CPU (about 1,600/s to 1,000 sockets).
DEFAULT_RAMP_RATES = (100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1300, 1600)
RAMP_P99_LIMIT_MS = 25.0
# A step that held with the generator above this share of its core ends the ramp: past it, the figures would
# describe the generator, not the server (the rate held is then a lower bound).
RAMP_GENERATOR_CPU_LIMIT = 0.8


def ramp_step_verdict(result: dict, p99_limit_ms: float = RAMP_P99_LIMIT_MS) -> str | None:
    """Why a ramp step (a ``ramp_row`` result) did not hold (``None`` when it held): anything lost, duplicated,
    out of order or refused, a send without its ack, or a delivery p99 above the limit."""
    if result.get("error"):
        return f"error: {result['error']}"
    for key in ("lost", "duplicated", "out_of_order", "misrouted", "send_failed", "ack_missing"):
        if result.get(key):
            return f"{key} {result[key]}"
    if result.get("errors"):
        return f"error frames {result['errors']}"
    p99 = (result.get("latency_ms") or {}).get("p99")
    if p99 is None:
        return "no deliveries"
    if p99 > p99_limit_ms:
        return f"p99 {p99} ms > {p99_limit_ms:g} ms"
    return None


def generator_bound(result: dict) -> bool:
    """Whether the generator used more than RAMP_GENERATOR_CPU_LIMIT of its core during a ramp step."""
    return (result.get("generator") or {}).get("cpu_util", 0) > RAMP_GENERATOR_CPU_LIMIT


def ramp_summary(steps: list[dict], p99_limit_ms: float = RAMP_P99_LIMIT_MS) -> dict:
    """The highest rate that held, counting from the first step up to the first that did not, or up to a step
    that held with the generator out of CPU (``generator_bound``: the server may hold more)."""
    held = None
    stopped_by = None
    for step in steps:
        reason = ramp_step_verdict(step["result"], p99_limit_ms)
        if reason is not None:
            stopped_by = {"rate": step["rate"], "reason": reason}
            break
        held = step["rate"]
        if generator_bound(step["result"]):
            stopped_by = {"rate": step["rate"], "reason": "held, but the generator is out of CPU"}
            break
    return {
        "max_rate_held": held,
        "stopped_by": stopped_by,
        "generator_bound": bool(stopped_by and held == stopped_by["rate"]),
    }


def ramp_row(rate: float, result: dict) -> dict:
    """The figures of one ramp step kept in the ramp's result (the full traffic result is large)."""
    if result.get("error"):
        return {"rate": rate, "result": result}
    keep = ("sent", "delivered", "lost", "duplicated", "out_of_order", "misrouted", "send_failed", "errors", "ok")
    row = {key: result.get(key) for key in keep}
    row["latency_ms"] = result["latency_ms"]
    row["ack_missing"] = result["ack"]["missing"]
    row["ack_latency_ms"] = result["ack"]["latency_ms"]
    row["server"] = result["server"]
    row["generator"] = {k: result["generator"][k] for k in ("cpu_util", "saturated", "reasons")}
    row["host_disturbed"] = result["host"]["disturbed"]
    row["offered_msgs_per_s"] = result["throughput"]["offered_msgs_per_s"]
    return {"rate": rate, "result": row}


async def run_ramp(
    plan: dict,
    *,
    rates=DEFAULT_RAMP_RATES,
    duration: float = 10.0,
    p99_limit_ms: float = RAMP_P99_LIMIT_MS,
    drain: float = 5.0,
    server_pids=(),
    connect_concurrency: int = 100,
    connect_timeout: float = 10.0,
    label: str | None = None,
) -> dict:
    """Many-rooms traffic at rising rates (each step a full traffic run against the same server) until a step
    loses anything or its delivery p99 passes ``p99_limit_ms``; reports the highest rate that held."""
    wall_start = time.time()
    steps = []
    for rate in rates:
        try:
            result = await run_traffic(
                plan,
                rate=rate,
                duration=duration,
                drain=drain,
                server_pids=server_pids,
                connect_concurrency=connect_concurrency,
                connect_timeout=connect_timeout,
                label=label,
            )
        except (RuntimeError, OSError) as exc:
            result = {"ok": False, "error": str(exc)}
        steps.append(ramp_row(rate, result))
        if ramp_step_verdict(steps[-1]["result"], p99_limit_ms) is not None or generator_bound(steps[-1]["result"]):
            break
    summary = ramp_summary(steps, p99_limit_ms)
    return {
        "scenario": "ramp",
        "label": label,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall_start)),
        "plan": describe_plan(plan),
        "params": {"rates": list(rates), "duration": duration, "drain": drain, "p99_limit_ms": p99_limit_ms},
        "steps": steps,
        **summary,
        "env": env_block(),
        # The ramp measures a limit, so a step that did not hold is its finding, not a failure; only a ramp
        # where not even the first step held (or a step broke) is not ok.
        "ok": summary["max_rate_held"] is not None,
    }


# ------------------------------------------------------------------------------------------- storm

DEFAULT_STORM_SOCKETS = 5000


def storm_failure_kind(exc: BaseException) -> str:
    """``refused`` (TCP refused, or the handshake answered with an HTTP status), ``timeout`` or ``error``."""
    if isinstance(exc, ConnectionRefusedError | InvalidStatus):
        return "refused"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return "error"


def storm_summary(sockets: int, back_s: list[float], failure_kinds: list[str]) -> dict:
    """Reconnect figures from the seconds after the drop at which each socket had its ``hello`` again."""
    kinds = Counter(failure_kinds)
    all_back = len(back_s) == sockets and not failure_kinds
    last = max(back_s, default=None)
    return {
        "sockets": sockets,
        "reconnected": len(back_s),
        "all_back": all_back,
        "all_back_s": round(last, 3) if all_back and last is not None else None,
        "last_hello_s": None if last is None else round(last, 3),
        "connects_per_s": round(len(back_s) / last, 1) if last else None,
        "refused": kinds["refused"],
        "timed_out": kinds["timeout"],
        "failed_other": kinds["error"],
        "back_s": pct(back_s),
    }


async def discard_frames(ws: ClientConnection) -> None:
    """Read and drop a storm socket's frames so the server never sees a stalled reader."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


async def run_storm(
    plan: dict,
    *,
    sockets: int = DEFAULT_STORM_SOCKETS,
    probe_conversations: int = 10,
    probe_rate: float = 20.0,
    server_pids=(),
    connect_concurrency: int = 100,
    reconnect_concurrency: int | None = None,
    hello_timeout: float = 60.0,
    drain: float = 5.0,
    label: str | None = None,
) -> dict:
    """Open ``sockets`` authenticated sockets (cycling through the plan), drop them all at once (abort, as a crashed
    server or a lost network would), then reconnect them all at once. Meanwhile probe sockets (one more per plan
    client of the first ``probe_conversations`` conversations, never dropped) exchange ``probe_rate`` messages/s:
    their delivery latency tells whether the server kept serving messages during the storm."""
    validate_plan(plan)
    server_pids = list(server_pids)
    nofile = raise_nofile_limit(NOFILE_WANTED)
    wall_start = time.time()
    headroom = fd_headroom_check(sockets * 2, nofile[0], server_pids)
    if headroom:
        raise RuntimeError(f"not enough open files for {sockets} sockets: {headroom['detail']}")

    # Probes first, so the storm sockets' sessions are the same ones the probes use.
    probe_convs = sorted({c for spec in plan["clients"] for c in spec.get("conversations") or []})[:probe_conversations]
    probe_specs = [
        i for i, spec in enumerate(plan["clients"]) if set(spec.get("conversations") or []) & set(probe_convs)
    ]
    probes, failures = await open_many(plan, probe_specs, connect_concurrency, 10.0)
    if failures:
        await close_all(probes)
        raise RuntimeError(f"{len(failures)} probe sockets failed to connect; first: {describe_exc(failures[0])}")

    t0 = time.perf_counter()
    storm, failures = await open_many(plan, range(sockets), connect_concurrency, hello_timeout)
    initial_s = time.perf_counter() - t0
    if failures:
        await close_all(probes + storm)
        raise RuntimeError(f"{len(failures)} of {sockets} sockets failed to open; first: {describe_exc(failures[0])}")
    initial_hello = pct([c.hello_ms for c in storm])
    drainers = [asyncio.create_task(discard_frames(c.ws)) for c in storm]

    members: dict[int, list[Client]] = {}
    for c in probes:
        for conv in c.conversations:
            if conv in probe_convs:
                members.setdefault(conv, []).append(c)
    convs = sorted(members)
    st = TrafficState(nonce=secrets.token_hex(4), msg_conv=[])
    readers = [asyncio.create_task(read_loop(c, st)) for c in probes]
    sent_per_conv: Counter[int] = Counter()
    storm_over = asyncio.Event()

    async def probe_traffic() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        k = 0
        while not storm_over.is_set():
            delay = start + k / probe_rate - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(storm_over.wait(), delay)
                continue
            conv = convs[k % len(convs)]
            group = members[conv]
            sender = group[(k // len(convs)) % len(group)]
            st.msg_conv.append(conv)
            sent_ns = time.monotonic_ns()
            client_id = str(uuid.uuid4())
            body = f"{st.nonce}:{k}:{sender.idx}:{sent_ns}"
            st.expected += len(group)
            st.ack_pending[client_id] = sent_ns
            sent_per_conv[conv] += 1
            k += 1
            frame = {"type": "message.send", "conversation": conv, "body": body, "client_id": client_id}
            with contextlib.suppress(ConnectionClosed):
                await sender.ws.send(json.dumps(frame))

    srv_cpu0 = proc_cpu_seconds(server_pids) if server_pids else None
    gen_cpu0 = self_cpu_seconds()
    host0, load0 = cpu_times(), loadavg()
    sender_task = asyncio.create_task(probe_traffic())
    await asyncio.sleep(0.5)  # a little traffic before the drop, as on a live server

    # The drop: every storm socket's TCP connection aborted in the same loop iteration.
    dropped_at = time.perf_counter()
    for c in storm:
        c.ws.transport.abort()
    await asyncio.gather(*drainers, return_exceptions=True)

    back_s: list[float] = []
    kinds: list[str] = []
    details: Counter[str] = Counter()
    sem = asyncio.Semaphore(reconnect_concurrency or sockets)
    reopened: list[Client] = []

    async def reconnect(i: int) -> None:
        async with sem:
            try:
                client = await open_client(plan, i, plan["clients"][i % len(plan["clients"])], hello_timeout)
            except Exception as exc:
                kinds.append(storm_failure_kind(exc))
                details[describe_exc(exc)] += 1
                return
            back_s.append(time.perf_counter() - dropped_at)
            reopened.append(client)

    await asyncio.gather(*(reconnect(i) for i in range(sockets)))
    storm_s = time.perf_counter() - dropped_at
    storm_over.set()
    await sender_task
    st.sending_done = True
    st.check_done()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(st.done.wait(), timeout=drain)
    gen_cpu = self_cpu_seconds() - gen_cpu0
    srv_cpu1 = proc_cpu_seconds(server_pids) if server_pids else None
    window_s = time.perf_counter() - dropped_at + 0.5
    srv_cpu = None if srv_cpu0 is None or srv_cpu1 is None else srv_cpu1 - srv_cpu0
    host = host_block(host0, load0, server_pids, None if srv_cpu is None else srv_cpu / window_s, gen_cpu / window_s)
    rss = proc_rss_bytes(server_pids) if server_pids else None

    st.closing = True
    await close_all(probes + reopened)
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)

    lost = sum(sent_per_conv[conv] * len(group) for conv, group in members.items()) - st.delivered
    summary = storm_summary(sockets, back_s, kinds)
    messages = {
        "sent": sum(sent_per_conv.values()),
        "rate": probe_rate,
        "probe_sockets": len(probes),
        "expected_deliveries": st.expected,
        "delivered": st.delivered,
        "lost": lost,
        "duplicated": st.duplicated,
        "out_of_order": st.out_of_order,
        "errors": dict(st.errors),
        "latency_ms": pct(st.latencies_ns, 1e-6),
        "ack_latency_ms": pct(st.ack_latencies_ns, 1e-6),
        "ack_missing": len(st.ack_pending),
    }
    gen_util = gen_cpu / window_s if window_s else 0.0
    return {
        "scenario": "storm",
        "label": label,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(wall_start)),
        "plan": describe_plan(plan),
        "params": {
            "sockets": sockets,
            "probe_conversations": len(convs),
            "probe_rate": probe_rate,
            "connect_concurrency": connect_concurrency,
            "reconnect_concurrency": reconnect_concurrency or sockets,
            "hello_timeout": hello_timeout,
        },
        "initial": {
            "open_s": round(initial_s, 3),
            "sockets_per_s": round(sockets / initial_s, 1),
            "hello_ms": initial_hello,
        },
        "storm": {**summary, "storm_s": round(storm_s, 3), "failure_kinds": dict(details.most_common(5))},
        "messages": messages,
        "server": {
            "pids": server_pids,
            "cpu_s": None if srv_cpu is None else round(srv_cpu, 3),
            "cpu_util": None if srv_cpu is None else round(srv_cpu / window_s, 3),
            "rss_mb": mb(rss),
        },
        "generator": {
            "cpu_s": round(gen_cpu, 3),
            "cpu_util": round(gen_util, 3),
            # One Python process opens every socket: near a full core, connects/s is the generator's rate.
            "saturated": gen_util > 0.8,
            "rlimit_nofile": list(nofile),
        },
        "host": host,
        "env": env_block(),
        "ok": summary["all_back"] and lost == 0 and not st.duplicated and not st.out_of_order and not st.errors,
    }


# --------------------------------------------------------------------------------------------- CLI


def pid_list(value: str) -> list[int]:
    return [int(p) for p in value.split(",") if p.strip()]


def int_list(value: str) -> list[int]:
    return [int(p) for p in value.split(",") if p.strip()]


def resolve_plan(args: argparse.Namespace, scenario: str) -> dict:
    if args.plan:
        return load_plan(args.plan)
    preset = PRESETS[scenario]
    rooms = args.rooms if args.rooms is not None else preset["rooms"]
    members = args.members if args.members is not None else preset["members"]
    return build_peer_plan(args.peer, rooms, members, name=args.label or "peer")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    target = argparse.ArgumentParser(add_help=False)
    src = target.add_mutually_exclusive_group(required=True)
    src.add_argument("--plan", help="plan JSON file (url, origin, clients[{url|cookie|headers, conversations}])")
    src.add_argument("--peer", metavar="URL", help="build a peer plan for this ws:// URL (rooms joined by ?rooms=)")
    target.add_argument("--rooms", type=int, help="peer mode: number of rooms")
    target.add_argument("--members", type=int, help="peer mode: sockets per room")
    target.add_argument(
        "--server-pid",
        type=pid_list,
        action="extend",
        default=[],
        help="server PID(s) to sample (repeat or comma-separate; figures are summed)",
    )
    target.add_argument(
        "--connect-concurrency", type=int, help="handshakes in flight (default 100 for traffic, 10 for capacity)"
    )
    target.add_argument("--label", help="free-form label copied into the result")
    target.add_argument("--out", help="also write the JSON result to this file")
    target.add_argument("--check", action="store_true", help="exit 1 unless the result is ok")

    for name, text in (
        ("fanout", "one room of 100 members, 20 msg/s for 30 s"),
        ("rooms", "100 rooms of 10 members, 100 msg/s in total for 30 s"),
        ("traffic", "generic open-loop traffic over the plan's conversations"),
    ):
        preset = PRESETS[name]
        p = sub.add_parser(name, parents=[target], help=text, description=text)
        p.add_argument("--rate", type=float, default=preset["rate"], help="messages/s in total")
        p.add_argument("--duration", type=float, default=preset["duration"], help="seconds of sending")
        p.add_argument("--drain", type=float, default=5.0, help="max seconds to wait after the last send")
        p.add_argument("--connect-timeout", type=float, default=10.0)

    cap = sub.add_parser("capacity", parents=[target], help="open idle sockets in steps until a limit is hit")
    cap.add_argument("--steps", type=int_list, default=list(DEFAULT_STEPS), help="cumulative socket counts")
    cap.add_argument("--hello-timeout", type=float, default=10.0, help="connect-to-hello timeout per socket")
    cap.add_argument("--hold", type=float, default=1.0, help="seconds to hold each step before checking sockets")
    cap.add_argument("--max-hello-ms", type=float, default=5000.0, help="stop when hello p99 exceeds this")
    cap.add_argument("--max-rss-mb", type=float, help="stop when the server RSS exceeds this")
    cap.add_argument("--min-mem-available-mb", type=float, default=1024.0, help="stop below this MemAvailable")

    ramp = sub.add_parser(
        "ramp", parents=[target], help="many-rooms traffic at rising rates until p99 passes a limit or anything is lost"
    )
    ramp.add_argument("--rates", type=int_list, default=list(DEFAULT_RAMP_RATES), help="messages/s per step")
    ramp.add_argument("--duration", type=float, default=10.0, help="seconds of sending per step")
    ramp.add_argument("--p99-limit-ms", type=float, default=RAMP_P99_LIMIT_MS, help="a step holds up to this p99")
    ramp.add_argument("--drain", type=float, default=5.0, help="max seconds to wait after each step's last send")
    ramp.add_argument("--connect-timeout", type=float, default=10.0)

    storm = sub.add_parser("storm", parents=[target], help="drop every socket at once and reconnect them at once")
    storm.add_argument("--sockets", type=int, default=DEFAULT_STORM_SOCKETS, help="sockets dropped and reconnected")
    storm.add_argument("--probe-conversations", type=int, default=10, help="conversations the probe sockets join")
    storm.add_argument("--probe-rate", type=float, default=20.0, help="probe messages/s during the storm")
    storm.add_argument("--reconnect-concurrency", type=int, help="handshakes in flight after the drop (default all)")
    storm.add_argument("--hello-timeout", type=float, default=60.0, help="connect-to-hello timeout per socket")
    storm.add_argument("--drain", type=float, default=5.0, help="max seconds to wait for the probes' deliveries")

    pp = sub.add_parser("peer-plan", help="print a peer plan")
    pp.add_argument("--url", required=True)
    pp.add_argument("--rooms", type=int, required=True)
    pp.add_argument("--members", type=int, required=True)
    pp.add_argument("--name", default="peer")
    pp.add_argument("--out")
    return parser


def emit(result: dict, out: str | None) -> None:
    text = json.dumps(result, indent=2)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
    print(text)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "peer-plan":
        emit(build_peer_plan(args.url, args.rooms, args.members, name=args.name), args.out)
        return 0
    plan = resolve_plan(args, args.command)
    try:
        if args.command == "capacity":
            result = asyncio.run(
                run_capacity(
                    plan,
                    steps=args.steps,
                    server_pids=args.server_pid,
                    connect_concurrency=args.connect_concurrency or 10,
                    hello_timeout=args.hello_timeout,
                    hold=args.hold,
                    max_hello_ms=args.max_hello_ms,
                    max_rss_mb=args.max_rss_mb,
                    min_mem_available_mb=args.min_mem_available_mb,
                    label=args.label,
                )
            )
        elif args.command == "ramp":
            result = asyncio.run(
                run_ramp(
                    plan,
                    rates=args.rates,
                    duration=args.duration,
                    p99_limit_ms=args.p99_limit_ms,
                    drain=args.drain,
                    server_pids=args.server_pid,
                    connect_concurrency=args.connect_concurrency or 100,
                    connect_timeout=args.connect_timeout,
                    label=args.label,
                )
            )
        elif args.command == "storm":
            result = asyncio.run(
                run_storm(
                    plan,
                    sockets=args.sockets,
                    probe_conversations=args.probe_conversations,
                    probe_rate=args.probe_rate,
                    server_pids=args.server_pid,
                    connect_concurrency=args.connect_concurrency or 100,
                    reconnect_concurrency=args.reconnect_concurrency,
                    hello_timeout=args.hello_timeout,
                    drain=args.drain,
                    label=args.label,
                )
            )
        else:
            result = asyncio.run(
                run_traffic(
                    plan,
                    rate=args.rate,
                    duration=args.duration,
                    drain=args.drain,
                    server_pids=args.server_pid,
                    connect_concurrency=args.connect_concurrency or 100,
                    connect_timeout=args.connect_timeout,
                    label=args.label,
                )
            )
            result["scenario"] = args.command
    except (RuntimeError, OSError) as exc:
        emit({"scenario": args.command, "label": args.label, "ok": False, "error": str(exc)}, args.out)
        return 2
    emit(result, args.out)
    return 0 if result["ok"] or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
