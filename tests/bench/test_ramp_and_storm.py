"""The ramp's stop rule and the storm's summary (bench/loadgen.py), and both scenarios run end to end against
the Python reference peer served in this process."""

import importlib.util
from pathlib import Path

from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from bench import loadgen

PEER = Path(__file__).resolve().parents[2] / "bench" / "peers" / "py_websockets" / "server.py"


def clean_step(p99: float, **extra) -> dict:
    result = {"lost": 0, "duplicated": 0, "out_of_order": 0, "misrouted": 0, "send_failed": 0, "errors": {}}
    return {**result, "latency_ms": {"p99": p99}, **extra}


def test_a_clean_step_under_the_limit_holds():
    assert loadgen.ramp_step_verdict(clean_step(24.9)) is None
    assert loadgen.ramp_step_verdict(clean_step(25.0)) is None


def test_a_step_fails_past_the_p99_limit_or_on_anything_lost():
    assert loadgen.ramp_step_verdict(clean_step(25.1)) == "p99 25.1 ms > 25 ms"
    assert loadgen.ramp_step_verdict(clean_step(3.0, lost=1)) == "lost 1"
    assert loadgen.ramp_step_verdict(clean_step(3.0, out_of_order=2)) == "out_of_order 2"
    assert loadgen.ramp_step_verdict(clean_step(3.0, errors={"rate_limited": 1})).startswith("error frames")
    assert loadgen.ramp_step_verdict({"ok": False, "error": "10 of 1000 clients failed"}).startswith("error")
    assert loadgen.ramp_step_verdict(clean_step(None)) == "no deliveries"
    assert loadgen.ramp_step_verdict(clean_step(30.0), p99_limit_ms=50) is None


def test_the_ramp_reports_the_last_rate_before_the_first_step_that_did_not_hold():
    steps = [
        {"rate": 100, "result": clean_step(5.0)},
        {"rate": 200, "result": clean_step(12.0)},
        {"rate": 400, "result": clean_step(31.0)},
        {"rate": 700, "result": clean_step(4.0)},  # after a failure: not counted, the ramp stops there
    ]
    assert loadgen.ramp_summary(steps) == {
        "max_rate_held": 200,
        "stopped_by": {"rate": 400, "reason": "p99 31.0 ms > 25 ms"},
        "generator_bound": False,
    }
    assert loadgen.ramp_summary(steps[:2]) == {"max_rate_held": 200, "stopped_by": None, "generator_bound": False}
    assert loadgen.ramp_summary([{"rate": 100, "result": clean_step(2.0, lost=3)}]) == {
        "max_rate_held": None,
        "stopped_by": {"rate": 100, "reason": "lost 3"},
        "generator_bound": False,
    }


def test_a_send_without_its_ack_fails_the_step():
    assert loadgen.ramp_step_verdict(clean_step(3.0, ack_missing=2)) == "ack_missing 2"


def test_the_ramp_ends_where_the_generator_runs_out_of_cpu_and_says_the_rate_is_a_lower_bound():
    steps = [
        {"rate": 800, "result": clean_step(5.0, generator={"cpu_util": 0.6})},
        {"rate": 1000, "result": clean_step(6.0, generator={"cpu_util": 0.85})},
        {"rate": 1300, "result": clean_step(7.0, generator={"cpu_util": 0.95})},  # not reached by the ramp
    ]
    assert loadgen.ramp_summary(steps) == {
        "max_rate_held": 1000,
        "stopped_by": {"rate": 1000, "reason": "held, but the generator is out of CPU"},
        "generator_bound": True,
    }


def test_storm_summary_when_every_socket_came_back():
    summary = loadgen.storm_summary(4, [0.5, 1.0, 1.5, 2.0], [])
    assert summary["all_back"] is True
    assert summary["all_back_s"] == 2.0
    assert summary["connects_per_s"] == 2.0
    assert (summary["refused"], summary["timed_out"], summary["failed_other"]) == (0, 0, 0)


def test_storm_summary_counts_refusals_and_timeouts_and_is_not_all_back():
    summary = loadgen.storm_summary(5, [0.25, 0.5], ["refused", "refused", "timeout"])
    assert summary["all_back"] is False
    assert summary["all_back_s"] is None
    assert summary["last_hello_s"] == 0.5
    assert summary["reconnected"] == 2
    assert (summary["refused"], summary["timed_out"]) == (2, 1)


def test_storm_failure_kinds():
    assert loadgen.storm_failure_kind(ConnectionRefusedError()) == "refused"
    assert loadgen.storm_failure_kind(InvalidStatus(Response(403, "Forbidden", Headers()))) == "refused"
    assert loadgen.storm_failure_kind(TimeoutError()) == "timeout"
    assert loadgen.storm_failure_kind(ConnectionResetError()) == "error"


def load_peer():
    spec = importlib.util.spec_from_file_location("py_websockets_peer", PEER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_ramp_and_storm_against_the_python_peer():
    peer = load_peer()
    async with serve(peer.handler, "127.0.0.1", 0, compression=None, process_request=peer.reject_other_paths) as srv:
        port = srv.sockets[0].getsockname()[1]
        plan = loadgen.build_peer_plan(f"ws://127.0.0.1:{port}/ws/", 4, 3)

        ramp = await loadgen.run_ramp(plan, rates=[20, 40], duration=0.5, drain=5.0, p99_limit_ms=10_000)
        assert [step["rate"] for step in ramp["steps"]] == [20, 40]
        assert ramp["max_rate_held"] == 40 and ramp["stopped_by"] is None and ramp["ok"]
        assert all(step["result"]["lost"] == 0 for step in ramp["steps"])

        storm = await loadgen.run_storm(plan, sockets=30, probe_conversations=2, probe_rate=50.0)
        assert storm["storm"]["all_back"] and storm["storm"]["reconnected"] == 30
        assert storm["storm"]["refused"] == 0
        assert storm["messages"]["sent"] > 0 and storm["messages"]["lost"] == 0
        assert storm["ok"]
