"""The chatsite_nginx target's nginx (bench/proxy.py): its generated configuration, a WebSocket through it to the
Python reference peer, and the orchestrator skipping the target with a message when nginx is missing."""

import asyncio
import importlib.util
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.server import serve

from bench import loadgen, proxy

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"
NGINX = proxy.find_nginx()
needs_nginx = pytest.mark.skipif(NGINX is None, reason=proxy.MISSING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_config_proxies_websockets_to_every_process_and_keeps_its_files_in_the_prefix(tmp_path):
    path = proxy.write_nginx_config(tmp_path, 8080, [8001, 8002])
    text = path.read_text()
    assert "listen 127.0.0.1:8080 backlog=4096;" in text
    assert "server 127.0.0.1:8001 max_fails=0;" in text and "server 127.0.0.1:8002 max_fails=0;" in text
    assert "least_conn;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "proxy_http_version 1.1;" in text
    assert "proxy_set_header Host $http_host;" in text  # the port too: the origin check compares it
    paths = [word.rstrip(";") for word in text.split() if word.startswith("/") and word != "/"]  # not `location /`
    assert paths and all(p.startswith(str(tmp_path)) for p in paths)
    assert all((tmp_path / f"{kind}_temp").is_dir() for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    argv = proxy.nginx_argv("/usr/sbin/nginx", tmp_path)
    assert argv[argv.index("-e") + 1] == str(tmp_path / "nginx-error.log")
    assert argv[-2:] == ["-g", "daemon off;"]
    with pytest.raises(ValueError):
        proxy.nginx_config(tmp_path, 8080, [])


@needs_nginx
def test_nginx_accepts_the_generated_config(tmp_path):
    proxy.write_nginx_config(tmp_path, free_port(), [free_port(), free_port()])
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "nginx-error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def load_peer():
    spec = importlib.util.spec_from_file_location(
        "py_websockets_peer", BENCH_DIR / "peers" / "py_websockets" / "server.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "nginx exited"
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise TimeoutError(f"nginx did not listen on {port}")


@needs_nginx
async def test_messages_go_through_nginx_to_the_processes_behind_it(tmp_path):
    peer = load_peer()
    async with (
        serve(peer.handler, "127.0.0.1", 0, compression=None, process_request=peer.reject_other_paths) as first,
        serve(peer.handler, "127.0.0.1", 0, compression=None, process_request=peer.reject_other_paths) as second,
    ):
        upstreams = [srv.sockets[0].getsockname()[1] for srv in (first, second)]
        port = free_port()
        proxy.write_nginx_config(tmp_path, port, upstreams)
        proc = subprocess.Popen(proxy.nginx_argv(NGINX, tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await wait_listening(port, proc)
            # Each room on one peer process only (the peers do not share rooms): one socket per room.
            plan = loadgen.build_peer_plan(f"ws://127.0.0.1:{port}/ws/", 4, 1)
            result = await loadgen.run_traffic(plan, rate=40, duration=0.5, drain=5.0)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    assert result["sent"] > 0 and result["delivered"] == result["expected_deliveries"]
    assert result["lost"] == 0 and result["ack"]["missing"] == 0 and not result["errors"]


def load_run(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH_DIR))
    spec = importlib.util.spec_from_file_location("bench_run", BENCH_DIR / "run.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_run", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_without_nginx_the_target_is_skipped_with_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_NGINX", str(tmp_path / "no-such-nginx"))
    run = load_run(monkeypatch)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        status = run.main(["--targets", "chatsite_nginx", "--scenarios", "ramp", "--out-dir", str(tmp_path)])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert status == 0  # nothing failed: nothing could run
    summary = json.loads((tmp_path / "summary.json").read_text())
    [row] = summary["runs"]
    assert row["target"] == "chatsite_nginx" and "apt-get install nginx" in row["skipped"]
    two = next(e for e in summary["scorecard"] if e["figure"].startswith("two processes"))
    assert "apt-get install nginx" in two["measured"] and two["met"] is None


def test_by_default_the_nginx_target_runs_only_the_ramp(monkeypatch):
    run = load_run(monkeypatch)
    assert "chatsite_nginx" in run.DEFAULT_TARGETS
    assert run.DEFAULT_SCENARIOS_OF["chatsite_nginx"] == ("ramp",)
