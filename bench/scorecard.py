"""Issue 17's figures from one run's summary rows: each measured value, its target, whether it is met, and the
chat server's figure divided by each peer's (chatsite / peer: below 1 is better for times, CPU and memory,
above 1 for rates).

run.py prints the table at the end of a run and writes it into summary.json (`scorecard`); report.py renders it
as Markdown. Nothing here runs a load: it is arithmetic on the rows `run.summarise` makes.
"""

from __future__ import annotations

OURS = "chatsite"
TWO_PROCESSES = "chatsite_nginx"
PEERS = ("node_ws", "node_ws_pg", "py_websockets")
STORAGE_PEER = "node_ws_pg"  # the ramp must stay ahead of it at every step

FANOUT_P99_MS = 10.0
ROOMS_P99_MS = 5.0
CPU_FIXED_MS = 1.0
CPU_PER_RECIPIENT_MS = 0.02
SUSTAINED_RATE = 1000
STORM_SECONDS = 5.0
STORM_SOCKETS = 5000
IDLE_SOCKETS = 10_000
IDLE_KIB_PER_SOCKET = 16.0
PAGE_CPU_MS = 2.5
PAGE_P99_MS = 50.0
TWO_PROCESS_RATIO = 1.6


def find(rows: list[dict], target: str, scenario: str) -> dict | None:
    """The run of ``target`` in ``scenario`` that produced figures (not an error, not skipped)."""
    return next(
        (
            r
            for r in rows
            if r.get("target") == target and r.get("scenario") == scenario and "error" not in r and "skipped" not in r
        ),
        None,
    )


def ratio(ours, theirs) -> float | None:
    if ours is None or theirs is None or isinstance(ours, bool) or not theirs:
        return None
    return round(ours / theirs, 2)


def cpu_per_message(row: dict | None) -> tuple[float, float] | None:
    """(recipients per message, server CPU ms per message sent) of a traffic run: CPU seconds / messages."""
    if not row or not row.get("sent") or not row.get("delivered"):
        return None
    cpu_s = row.get("server_cpu_s")
    if cpu_s is None and row.get("server_cpu_s_per_1000") is not None:
        cpu_s = row["server_cpu_s_per_1000"] * row["delivered"] / 1000
    if cpu_s is None:
        return None
    return row["delivered"] / row["sent"], cpu_s * 1000 / row["sent"]


def cpu_split(fanout: dict | None, rooms: dict | None) -> tuple[float, float] | None:
    """(fixed ms per message, ms per recipient) from two runs with different recipients per message: CPU per
    message = fixed + recipients x per recipient, once with 100 recipients (fan-out), once with 10 (many rooms)."""
    a, b = cpu_per_message(fanout), cpu_per_message(rooms)
    if a is None or b is None or abs(a[0] - b[0]) < 1e-9:
        return None
    per_recipient = (a[1] - b[1]) / (a[0] - b[0])
    return round(a[1] - a[0] * per_recipient, 3), round(per_recipient, 4)


def num(value) -> str:
    """Three significant figures (15.07 -> 15.1, 0.0627 -> 0.0627), "-" for nothing."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def clean(row: dict) -> bool:
    return not row.get("lost") and not row.get("duplicated") and not row.get("out_of_order")


def ramp_steps(row: dict) -> dict[int, dict]:
    return {step["rate"]: step for step in row.get("steps") or []}


def step_held(step: dict) -> bool:
    if "held" in step:
        return bool(step["held"])
    return not step.get("lost") and step.get("p99_ms") is not None and step["p99_ms"] <= 25


def behind_peer(ours: dict, peer: dict) -> list[int]:
    """Rates at which the chat server was not ahead of the peer: the peer held and we did not (or never got
    there), or both held and our p99 was higher."""
    mine = ramp_steps(ours)
    behind = []
    for rate, theirs in sorted(ramp_steps(peer).items()):
        step = mine.get(rate)
        if not step_held(theirs):
            continue  # the peer failed here: anything is at least as good
        if step is None or not step_held(step) or (step.get("p99_ms") or 0) > (theirs.get("p99_ms") or 0):
            behind.append(rate)
    return behind


def figure(name: str, target: str, measured: str, value, met: bool | None, **extra) -> dict:
    return {"figure": name, "target": target, "measured": measured, "value": value, "met": met, **extra}


def peer_ratios(rows: list[dict], scenario: str, ours_value, get) -> dict[str, float | None]:
    """chatsite / peer for every peer that ran ``scenario``."""
    out = {}
    for peer in PEERS:
        row = find(rows, peer, scenario)
        if row is not None:
            out[peer] = ratio(ours_value, get(row))
    return out


def traffic_figure(rows: list[dict], scenario: str, name: str, limit_ms: float) -> dict:
    target = f"p99 ≤ {limit_ms:g} ms, 0 lost / duplicated / out of order"
    row = find(rows, OURS, scenario)
    if row is None:
        return figure(name, target, "not run", None, None)
    p99 = row.get("p99_ms")
    measured = f"p99 {num(p99)} ms, {row.get('lost')} / {row.get('duplicated')} / {row.get('out_of_order')}"
    met = p99 is not None and p99 <= limit_ms and clean(row)
    return figure(name, target, measured, p99, met, ratios=peer_ratios(rows, scenario, p99, lambda r: r.get("p99_ms")))


def cpu_figures(rows: list[dict]) -> list[dict]:
    target = f"≤ {CPU_FIXED_MS:g} ms + {CPU_PER_RECIPIENT_MS:g} ms per recipient"
    ours = cpu_split(find(rows, OURS, "fanout"), find(rows, OURS, "rooms"))
    peers = {p: cpu_split(find(rows, p, "fanout"), find(rows, p, "rooms")) for p in PEERS}
    peers = {p: split for p, split in peers.items() if split is not None}
    if ours is None:
        return [figure("server CPU per message", target, "not run (needs fanout and rooms)", None, None)]
    fixed, per_recipient = ours
    return [
        figure(
            "server CPU per message: fixed part (ms)",
            target,
            f"{num(fixed)} ms + {num(per_recipient)} ms per recipient",
            fixed,
            fixed <= CPU_FIXED_MS,
            ratios={p: ratio(fixed, split[0]) for p, split in peers.items()},
        ),
        figure(
            "server CPU per message: per recipient (ms)",
            target,
            f"{num(per_recipient)} ms per recipient",
            per_recipient,
            per_recipient <= CPU_PER_RECIPIENT_MS,
            ratios={p: ratio(per_recipient, split[1]) for p, split in peers.items()},
        ),
    ]


def ramp_lower_bound(row: dict) -> bool:
    """Whether the ramp ended on the generator rather than the server: a step that held with the generator out
    of CPU, or a failing step during which the generator was saturated (its CPU or its send schedule)."""
    if row.get("generator_bound"):
        return True
    steps = row.get("steps") or []
    return bool(row.get("stopped_by") and steps and not step_held(steps[-1]) and steps[-1].get("generator_saturated"))


def ramp_text(row: dict) -> str:
    held = row.get("max_rate_held")
    text = f"{held}/s held" if held is not None else "not even the first step held"
    stop = row.get("stopped_by")
    if row.get("generator_bound"):
        text += " (then the generator ran out of CPU: a lower bound)"
    elif stop:
        text += f", stopped at {stop['rate']}/s: {stop['reason']}"
        if ramp_lower_bound(row):
            text += " (the generator was saturated at that step)"
    else:
        text += " (every step)"
    return text


def sustained_figure(rows: list[dict]) -> dict:
    target = f"≥ {SUSTAINED_RATE:,} msg/s at p99 ≤ 25 ms, every ack durable; ahead of {STORAGE_PEER} at every step"
    name = "sustained sends per process (ramp)"
    row = find(rows, OURS, "ramp")
    if row is None:
        return figure(name, target, "not run", None, None)
    held = row.get("max_rate_held")
    peer = find(rows, STORAGE_PEER, "ramp")
    behind = behind_peer(row, peer) if peer else None
    measured = ramp_text(row)
    if behind:
        measured += f"; behind {STORAGE_PEER} at {', '.join(f'{r}/s' for r in behind)}"
    elif behind == []:
        measured += f"; ahead of {STORAGE_PEER} at every step"
    met = held is not None and held >= SUSTAINED_RATE and behind == []
    lower_bounds = [p for p in PEERS if ramp_lower_bound(find(rows, p, "ramp") or {})]
    return figure(
        name,
        target,
        measured,
        held,
        met,
        ratios=peer_ratios(rows, "ramp", held, lambda r: r.get("max_rate_held")),
        behind_at=behind,
        peers_lower_bound=lower_bounds,  # their rate is at least what is shown, so the ratio at most
    )


def storm_figure(rows: list[dict]) -> dict:
    target = (
        f"{STORM_SOCKETS:,} sockets all back with hello in ≤ {STORM_SECONDS:g} s (≥ 1,000 connects/s), none refused, "
        "messages served"
    )
    name = "reconnect storm (5,000 sockets)"
    row = find(rows, OURS, "storm")
    if row is None:
        return figure(name, target, "not run", None, None)
    back = row.get("all_back_s")
    measured = (
        f"{row.get('sockets')} sockets back in {num(back)} s ({num(row.get('connects_per_s'))}/s), "
        f"refused {row.get('refused')}, "
        f"timed out {row.get('timed_out')}; meanwhile {row.get('messages_delivered')} deliveries, "
        f"lost {row.get('messages_lost')}, p99 {num(row.get('messages_p99_ms'))} ms"
    )
    met = (
        back is not None
        and (row.get("sockets") or 0) >= STORM_SOCKETS
        and back <= STORM_SECONDS
        and not row.get("refused")
        and not row.get("timed_out")
        and bool(row.get("messages_delivered"))
        and not row.get("messages_lost")
        and not row.get("messages_duplicated")
        and not row.get("messages_out_of_order")
    )
    return figure(
        name, target, measured, back, met, ratios=peer_ratios(rows, "storm", back, lambda r: r.get("all_back_s"))
    )


def idle_figure(rows: list[dict]) -> dict:
    target = f"{IDLE_SOCKETS:,} sockets at ≤ {IDLE_KIB_PER_SOCKET:g} KiB RSS each (app and server together)"
    name = "idle authenticated sockets per process"
    row = find(rows, OURS, "capacity")
    if row is None:
        return figure(name, target, "not run", None, None)
    per_socket = row.get("server_rss_per_socket_kb")
    measured = f"{row.get('max_open')} open, {num(per_socket)} KiB each"
    if row.get("server_rss_marginal_per_socket_kb") is not None:
        measured += f" ({num(row['server_rss_marginal_per_socket_kb'])} KiB each in the last step)"
    if row.get("stopped_by"):
        measured += f"; stopped by {row['stopped_by'].get('limit')}"
    met = (row.get("max_open") or 0) >= IDLE_SOCKETS and per_socket is not None and per_socket <= IDLE_KIB_PER_SOCKET
    return figure(
        name,
        target,
        measured,
        per_socket,
        met,
        ratios=peer_ratios(rows, "capacity", per_socket, lambda r: r.get("server_rss_per_socket_kb")),
    )


def page_figure(rows: list[dict]) -> dict:
    target = f"≤ {PAGE_CPU_MS:g} ms CPU per page, p99 ≤ {PAGE_P99_MS:g} ms"
    name = "conversation page, 20 clients"
    row = find(rows, OURS, "pages")
    if row is None:
        return figure(name, target, "not run", None, None)
    cpu, p99 = row.get("conversation_page_cpu_ms_per_request"), row.get("conversation_page_p99_ms")
    measured = f"{num(cpu)} ms CPU per page, p99 {num(p99)} ms, {num(row.get('conversation_page_rps'))} pages/s"
    met = cpu is not None and p99 is not None and cpu <= PAGE_CPU_MS and p99 <= PAGE_P99_MS
    return figure(name, target, measured, cpu, met, ratios={})


def two_process_figure(rows: list[dict]) -> dict:
    target = f"≥ {TWO_PROCESS_RATIO:g}x the sustained sends of one"
    name = "two processes behind nginx vs one (ramp)"
    one, two = find(rows, OURS, "ramp"), find(rows, TWO_PROCESSES, "ramp")
    if one is None or two is None:
        missing = " and ".join(t for t, r in ((OURS, one), (TWO_PROCESSES, two)) if r is None)
        skipped = next((r["skipped"] for r in rows if r.get("target") == TWO_PROCESSES and "skipped" in r), None)
        return figure(name, target, f"not run ({skipped or missing + ' ramp missing'})", None, None)
    value = ratio(two.get("max_rate_held"), one.get("max_rate_held"))
    measured = f"two: {ramp_text(two)}; one: {ramp_text(one)}"
    if value is not None:
        measured = f"{value:g}x ({measured})"
    return figure(name, target, measured, value, value is not None and value >= TWO_PROCESS_RATIO, ratios={})


def scorecard(rows: list[dict]) -> list[dict]:
    """One entry per issue-17 figure, in the issue's order."""
    return [
        traffic_figure(rows, "fanout", "fan-out (100 members, 20 msg/s)", FANOUT_P99_MS),
        traffic_figure(rows, "rooms", "many rooms (100 x 10, 100 msg/s)", ROOMS_P99_MS),
        *cpu_figures(rows),
        sustained_figure(rows),
        storm_figure(rows),
        idle_figure(rows),
        page_figure(rows),
        two_process_figure(rows),
    ]


def fmt_ratio(entry: dict, peer: str) -> str:
    ratios = entry.get("ratios") or {}
    if peer not in ratios:
        return "-"
    value = ratios[peer]
    if value is None:
        return "n/a"
    return f"{'≤' if peer in entry.get('peers_lower_bound', ()) else ''}{value:g}x"


def met_text(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "-"}[met]


def render_markdown(card: list[dict]) -> str:
    """The scorecard as a Markdown table (printed at the end of a run, and by report.py)."""
    head = ["figure", "measured", "target", "met", *(f"chatsite / {p}" for p in PEERS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for e in card:
        cells = [e["figure"], e["measured"], e["target"], met_text(e["met"]), *(fmt_ratio(e, p) for p in PEERS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
