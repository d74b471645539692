"""The issue-17 scorecard (bench/scorecard.py): the CPU split from two runs, the targets met or missed, and the
ratios to the peers, on summary rows as bench/run.py writes them; no load is run."""

import pytest

from bench import scorecard


def traffic(target, scenario, *, p99, sent, delivered, cpu_s, lost=0):
    return {
        "target": target,
        "scenario": scenario,
        "ok": not lost,
        "p99_ms": p99,
        "sent": sent,
        "delivered": delivered,
        "lost": lost,
        "duplicated": 0,
        "out_of_order": 0,
        "server_cpu_s": cpu_s,
    }


def ramp(target, steps, *, generator_bound=False):
    """steps: (rate, p99, held) in order; the ramp stops at the first that did not hold."""
    rows = [{"rate": r, "p99_ms": p99, "held": held, "lost": 0, "generator_saturated": False} for r, p99, held in steps]
    held = [r for r, _, ok in steps if ok]
    failed = next((r for r, _, ok in steps if not ok), None)
    stopped_by = {"rate": failed, "reason": "p99"} if failed else None
    if generator_bound:
        stopped_by = {"rate": held[-1], "reason": "held, but the generator is out of CPU"}
    return {
        "target": target,
        "scenario": "ramp",
        "ok": True,
        "max_rate_held": held[-1] if held else None,
        "stopped_by": stopped_by,
        "generator_bound": generator_bound,
        "steps": rows,
    }


def test_cpu_per_message_splits_into_a_fixed_part_and_a_part_per_recipient():
    # 600 messages to 100 recipients for 5.4 s of CPU: 9 ms each; 3,000 to 10 for 8.1 s: 2.7 ms each.
    fanout = traffic("chatsite", "fanout", p99=9.0, sent=600, delivered=60_000, cpu_s=5.4)
    rooms = traffic("chatsite", "rooms", p99=4.0, sent=3000, delivered=30_000, cpu_s=8.1)
    # a + 100 b = 9 and a + 10 b = 2.7: b = 0.07 ms per recipient, a = 2.0 ms.
    assert scorecard.cpu_split(fanout, rooms) == (2.0, 0.07)


def test_cpu_per_message_falls_back_on_cpu_per_thousand_deliveries():
    fanout = traffic("chatsite", "fanout", p99=9.0, sent=600, delivered=60_000, cpu_s=None)
    fanout["server_cpu_s_per_1000"] = 0.09  # 5.4 s over 60,000 deliveries
    rooms = traffic("chatsite", "rooms", p99=4.0, sent=3000, delivered=30_000, cpu_s=8.1)
    assert scorecard.cpu_split(fanout, rooms) == (2.0, 0.07)
    assert scorecard.cpu_split(fanout, None) is None
    assert scorecard.cpu_split(fanout, fanout) is None  # one equation, two unknowns


def test_the_storage_peer_is_ahead_where_it_held_and_we_did_not_or_had_the_longer_tail():
    ours = ramp("chatsite", [(100, 3.0, True), (150, 9.0, True), (200, 30.0, False)])
    peer = ramp("node_ws_pg", [(100, 4.0, True), (150, 5.0, True), (200, 6.0, True), (250, 7.0, True)])
    assert scorecard.behind_peer(ours, peer) == [150, 200, 250]
    slow_peer = ramp("node_ws_pg", [(100, 4.0, True), (150, 40.0, False)])
    assert scorecard.behind_peer(ours, slow_peer) == []


def full_run() -> list[dict]:
    rows = []
    for target, factor in (("chatsite", 1.0), ("node_ws", 0.5), ("node_ws_pg", 0.8), ("py_websockets", 0.25)):
        rows.append(traffic(target, "fanout", p99=8.0 * factor, sent=600, delivered=60_000, cpu_s=5.4 * factor))
        rows.append(traffic(target, "rooms", p99=6.0 * factor, sent=3000, delivered=30_000, cpu_s=8.1 * factor))
        rows.append(
            {
                "target": target,
                "scenario": "capacity",
                "max_open": 10_000,
                "stopped_by": None,
                "server_rss_per_socket_kb": 20.0 * factor,
                "server_rss_marginal_per_socket_kb": 18.0 * factor,
            }
        )
        rows.append(
            {
                "target": target,
                "scenario": "storm",
                "sockets": 5000,
                "all_back_s": 8.0 * factor,
                "connects_per_s": 625 / factor,
                "refused": 0,
                "timed_out": 0,
                "messages_delivered": 900,
                "messages_lost": 0,
            }
        )
    rows += [
        ramp("chatsite", [(100, 3.0, True), (150, 8.0, True), (200, 30.0, False)]),
        ramp(
            "chatsite_nginx",
            [(100, 6.0, True), (150, 7.0, True), (200, 9.0, True), (250, 12.0, True), (300, 40, False)],
        ),
        ramp("node_ws", [(100, 1.0, True), (150, 1.0, True), (200, 2.0, True), (250, 2.0, True)], generator_bound=True),
        ramp("node_ws_pg", [(100, 4.0, True), (150, 5.0, True), (200, 6.0, True), (250, 7.0, True)]),
        {
            "target": "chatsite",
            "scenario": "pages",
            "conversation_page_cpu_ms_per_request": 2.4,
            "conversation_page_p99_ms": 45.0,
            "conversation_page_rps": 400.0,
        },
    ]
    return rows


def test_every_figure_has_its_value_target_verdict_and_ratios():
    card = {entry["figure"]: entry for entry in scorecard.scorecard(full_run())}

    fanout = card["fan-out (100 members, 20 msg/s)"]
    assert (fanout["value"], fanout["met"]) == (8.0, True)
    assert fanout["ratios"] == {"node_ws": 2.0, "node_ws_pg": 1.25, "py_websockets": 4.0}
    rooms = card["many rooms (100 x 10, 100 msg/s)"]
    assert (rooms["value"], rooms["met"]) == (6.0, False)  # target 5 ms

    fixed = card["server CPU per message: fixed part (ms)"]
    per_recipient = card["server CPU per message: per recipient (ms)"]
    assert (fixed["value"], fixed["met"]) == (2.0, False)
    assert (per_recipient["value"], per_recipient["met"]) == (0.07, False)
    assert fixed["ratios"]["node_ws"] == 2.0 and per_recipient["ratios"]["py_websockets"] == 4.0

    sustained = card["sustained sends per process (ramp)"]
    assert sustained["value"] == 150 and sustained["met"] is False
    assert sustained["behind_at"] == [150, 200, 250]
    assert sustained["ratios"] == {"node_ws": 0.6, "node_ws_pg": 0.6}  # py_websockets ran no ramp
    assert sustained["peers_lower_bound"] == ["node_ws"]

    storm = card["reconnect storm (5,000 sockets)"]
    assert (storm["value"], storm["met"]) == (8.0, False)  # 5 s
    assert storm["ratios"]["node_ws"] == 2.0
    node_storm = next(r for r in full_run() if r["target"] == "node_ws" and r["scenario"] == "storm")
    assert scorecard.storm_figure([{**node_storm, "target": "chatsite"}])["met"] is True  # 4 s
    smoke = {**node_storm, "target": "chatsite", "sockets": 200}
    assert scorecard.storm_figure([smoke])["met"] is False  # the target is for 5,000

    idle = card["idle authenticated sockets per process"]
    assert (idle["value"], idle["met"]) == (20.0, False)  # 16 KiB
    assert idle["ratios"]["py_websockets"] == 4.0

    page = card["conversation page, 20 clients"]
    assert (page["value"], page["met"]) == (2.4, True)

    two = card["two processes behind nginx vs one (ramp)"]
    assert (two["value"], two["met"]) == (1.67, True)  # 250 / 150


def test_met_needs_every_part_of_the_target():
    rows = full_run()
    fanout = next(r for r in rows if r["target"] == "chatsite" and r["scenario"] == "fanout")
    fanout["lost"] = 1
    capacity = next(r for r in rows if r["target"] == "chatsite" and r["scenario"] == "capacity")
    capacity.update(max_open=5000, server_rss_per_socket_kb=10.0, stopped_by={"limit": "client_fds"})
    card = {entry["figure"]: entry for entry in scorecard.scorecard(rows)}
    assert card["fan-out (100 members, 20 msg/s)"]["met"] is False
    idle = card["idle authenticated sockets per process"]
    assert idle["met"] is False and "stopped by client_fds" in idle["measured"]


def test_figures_not_run_are_said_so_with_the_reason_a_target_was_skipped():
    rows = [
        ramp("chatsite", [(100, 5.0, True), (150, 30.0, False)]),
        {"target": "chatsite_nginx", "scenario": None, "ok": None, "skipped": "nginx not found"},
        {"target": "chatsite", "scenario": "fanout", "ok": False, "error": "server did not listen"},
    ]
    card = {entry["figure"]: entry for entry in scorecard.scorecard(rows)}
    assert card["fan-out (100 members, 20 msg/s)"]["measured"] == "not run"
    assert card["fan-out (100 members, 20 msg/s)"]["met"] is None
    assert card["two processes behind nginx vs one (ramp)"]["measured"] == "not run (nginx not found)"
    assert card["sustained sends per process (ramp)"]["ratios"] == {}
    table = scorecard.render_markdown(scorecard.scorecard(rows))
    assert table.count("\n") == len(scorecard.scorecard(rows)) + 1


@pytest.mark.parametrize(("value", "text"), [(15.07, "15.1"), (0.0627, "0.0627"), (2.313, "2.31"), (1234.5, "1,234")])
def test_numbers_are_shown_to_three_figures(value, text):
    assert scorecard.num(value) == text
