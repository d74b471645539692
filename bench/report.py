"""Markdown tables from a run's summary.json: the chat server side by side with each peer, with ratios.

    python bench/report.py [bench/results/summary.json] [--ours chatsite]

Prints the tables that BENCHMARKS.md quotes, so the document is regenerated from one run, not typed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(RESULTS.parent))  # run as `python bench/report.py`: the sibling scorecard module

import scorecard  # noqa: E402


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def ratio(ours, peer) -> str:
    if not isinstance(ours, int | float) or not isinstance(peer, int | float) or isinstance(ours, bool) or not peer:
        return "-"
    return f"{ours / peer:.2f}x"


def cpu_ms_per_message(row: dict) -> float | None:
    if not row.get("sent") or row.get("server_cpu_s_per_1000") is None:
        return None
    return round(row["server_cpu_s_per_1000"] * row["delivered"] / row["sent"], 3)


TRAFFIC_METRICS = [
    ("latency p50 (ms)", lambda r: r.get("p50_ms")),
    ("latency p95 (ms)", lambda r: r.get("p95_ms")),
    ("latency p99 (ms)", lambda r: r.get("p99_ms")),
    ("latency max (ms)", lambda r: r.get("max_ms")),
    ("deliveries/s", lambda r: r.get("deliveries_per_s")),
    ("messages sent", lambda r: r.get("sent")),
    (
        "lost / duplicated / out of order",
        lambda r: f"{r.get('lost')} / {r.get('duplicated')} / {r.get('out_of_order')}",
    ),
    ("server CPU s per 1,000 deliveries", lambda r: r.get("server_cpu_s_per_1000")),
    ("server CPU ms per message sent", cpu_ms_per_message),
    ("server CPU utilisation", lambda r: r.get("server_cpu_util")),
    ("server peak RSS (MB)", lambda r: r.get("server_peak_rss_mb")),
    (
        "generator saturated / host disturbed",
        lambda r: f"{fmt(r.get('generator_saturated'))} / {fmt(r.get('host_disturbed'))}",
    ),
]

CAPACITY_METRICS = [
    ("sockets open (last passed step)", lambda r: r.get("max_open")),
    ("stopped by", lambda r: (r.get("stopped_by") or {}).get("limit") if r.get("stopped_by") else "none"),
    ("connect-to-hello p50 (ms)", lambda r: r.get("hello_p50_ms")),
    ("connect-to-hello p99 (ms)", lambda r: r.get("hello_p99_ms")),
    ("server RSS at last step (MB)", lambda r: r.get("server_rss_mb")),
    ("RSS per socket (KiB)", lambda r: r.get("server_rss_per_socket_kb")),
]

RAMP_METRICS = [
    ("highest rate held (msg/s)", lambda r: r.get("max_rate_held")),
    ("stopped at (msg/s)", lambda r: (r.get("stopped_by") or {}).get("rate")),
    ("stopped because", lambda r: (r.get("stopped_by") or {}).get("reason") or "every step held"),
    *[
        (
            f"p99 at {rate}/s (ms)",
            lambda r, rate=rate: next((s["p99_ms"] for s in r.get("steps", []) if s["rate"] == rate), None),
        )
        for rate in (100, 200, 300, 400, 600, 1000, 1600)
    ],
]

STORM_METRICS = [
    ("sockets", lambda r: r.get("sockets")),
    ("all back with hello after (s)", lambda r: r.get("all_back_s")),
    ("connects/s", lambda r: r.get("connects_per_s")),
    ("refused", lambda r: r.get("refused")),
    ("timed out", lambda r: r.get("timed_out")),
    ("messages meanwhile p99 (ms)", lambda r: r.get("messages_p99_ms")),
    ("messages meanwhile lost", lambda r: r.get("messages_lost")),
]


def table(title: str, metrics, ours: dict, peers: list[dict]) -> list[str]:
    head = ["metric", ours["target"]]
    for p in peers:
        head += [p["target"], f"{ours['target']}/{p['target']}"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, get in metrics:
        mine = get(ours)
        cells = [label, fmt(mine)]
        for p in peers:
            theirs = get(p)
            cells += [fmt(theirs), ratio(mine, theirs)]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def pages_table(row: dict) -> list[str]:
    lines = ["### pages (chatsite only: the peers serve no pages)", ""]
    lines += ["| endpoint | requests/s | p50 (ms) | p99 (ms) | server CPU ms/request | queries @50 msgs | @200 msgs |"]
    lines += ["|---|---|---|---|---|---|---|"]
    queries = row.get("queries") or {}
    for name in ("conversation_page", "history"):
        lines.append(
            f"| {name} | {fmt(row.get(f'{name}_rps'))} | {fmt(row.get(f'{name}_p50_ms'))} | "
            f"{fmt(row.get(f'{name}_p99_ms'))} | {fmt(row.get(f'{name}_cpu_ms_per_request'))} | "
            f"{fmt((queries.get(f'{name}@50') or {}).get('queries'))} | "
            f"{fmt((queries.get(f'{name}@200') or {}).get('queries'))} |"
        )
    return [*lines, ""]


def render(summary: dict, ours_name: str) -> str:
    runs = summary["runs"]
    out = []
    if ours_name == scorecard.OURS:
        out += [
            "### Issue 17's figures (ratios: chatsite / peer)",
            "",
            scorecard.render_markdown(scorecard.scorecard(runs)),
            "",
        ]
    for scenario, title, metrics in (
        ("fanout", "1. fan-out: 1 group x 100 members, 20 msg/s, 30 s", TRAFFIC_METRICS),
        ("rooms", "2. many rooms: 100 groups x 10 members, 100 msg/s, 30 s", TRAFFIC_METRICS),
        ("capacity", "3. capacity: idle authenticated sockets", CAPACITY_METRICS),
        ("ramp", "4. ramp: many rooms at rising rates until p99 > 25 ms or a loss", RAMP_METRICS),
        ("storm", "5. reconnect storm: every socket dropped and reconnected at once", STORM_METRICS),
    ):
        rows = [r for r in runs if r.get("scenario") == scenario and "error" not in r]
        ours = next((r for r in rows if r["target"] == ours_name), None)
        if ours is None:
            continue
        out += table(title, metrics, ours, [r for r in rows if r["target"] != ours_name])
    for r in runs:
        if r.get("scenario") == "pages" and r.get("target") == ours_name and "error" not in r:
            out += pages_table(r)
    for r in runs:
        if "error" in r:
            out.append(f"- {r['target']} / {r['scenario']}: ERROR {r['error']}")
        elif "skipped" in r:
            out.append(f"- {r['target']}: skipped: {r['skipped']}")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summary", nargs="?", default=str(RESULTS / "summary.json"))
    parser.add_argument("--ours", default="chatsite")
    args = parser.parse_args(argv)
    summary = json.loads(Path(args.summary).read_text())
    print(render(summary, args.ours))
    return 0


if __name__ == "__main__":
    sys.exit(main())
