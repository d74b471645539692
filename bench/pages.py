"""HTTP page load: N concurrent keep-alive clients with real session cookies against the running server.

    python bench/pages.py --plan plan.json --concurrency 20 --duration 10 --server-pid PID --out result.json

The plan is run.py's chatsite plan (``http`` base URL, ``clients[].cookie``, ``conversations``). Each endpoint
(the conversation page and the history endpoint of the plan's first conversation) is loaded in turn for
``--duration`` seconds by ``--concurrency`` closed-loop clients (each sends its next request when the previous
answer is complete). Reports requests/s, latency percentiles, status codes and the server's CPU per request.

Queries per request are not visible from outside the server; ``--queries`` adds an in-process count
(django.test.Client + CaptureQueriesContext against the same database) for 50 and 200 stored messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import loadgen


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    """One HTTP/1.1 response (Content-Length or chunked): (status, body bytes)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
        return status, len(body)
    size = 0
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            chunk_len = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk_len + 2)
            size += chunk_len
            if chunk_len == 0:
                return status, size
    raise RuntimeError("response without Content-Length or chunked encoding")


async def worker(base: str, path: str, cookie: str, deadline: float, latencies: list, statuses: dict) -> None:
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nCookie: {cookie}\r\nAccept: text/html,application/json\r\n"
        "Connection: keep-alive\r\n\r\n"
    ).encode()
    try:
        while True:  # at least one request, so a deadline in the past is a warm-up
            started = time.perf_counter_ns()
            writer.write(request)
            status, _size = await read_response(reader)
            latencies.append(time.perf_counter_ns() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if time.monotonic() >= deadline:
                return
    finally:
        writer.close()


async def load_endpoint(plan: dict, path: str, concurrency: int, duration: float, pids: list[int]) -> dict:
    latencies: list[int] = []
    statuses: dict[int, int] = {}
    cookies = [c["cookie"] for c in plan["clients"]]
    # Warm-up: one request per client opens its connection and fills the server's caches.
    await asyncio.gather(
        *(worker(plan["http"], path, cookies[i % len(cookies)], 0, [], {}) for i in range(concurrency))
    )
    sampler = loadgen.ServerSampler(pids)
    sampler.start()
    cpu0, gen0, t0 = loadgen.proc_cpu_seconds(pids), loadgen.self_cpu_seconds(), time.monotonic()
    deadline = t0 + duration
    await asyncio.gather(
        *(
            worker(plan["http"], path, cookies[i % len(cookies)], deadline, latencies, statuses)
            for i in range(concurrency)
        )
    )
    elapsed = time.monotonic() - t0
    cpu1, gen1 = loadgen.proc_cpu_seconds(pids), loadgen.self_cpu_seconds()
    await sampler.stop()
    requests = len(latencies)
    server_cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
    return {
        "path": path,
        "concurrency": concurrency,
        "requests": requests,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "requests_per_s": round(requests / elapsed, 1),
        "latency_ms": loadgen.pct(latencies, 1e-6),
        "server": {
            "cpu_s": None if server_cpu is None else round(server_cpu, 3),
            "cpu_util": None if server_cpu is None else round(server_cpu / elapsed, 3),
            "cpu_ms_per_request": None if server_cpu is None or not requests else round(server_cpu / requests * 1e3, 3),
            "peak_rss_mb": loadgen.mb(sampler.peak_rss),
        },
        "generator": {"cpu_util": round((gen1 - gen0) / elapsed, 3)},
    }


def count_queries(conversation_id: int, cookie: str) -> dict:
    """Queries per request, in process, through django.test.Client with the same session cookie."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from messaging.models import Conversation
    from messaging.services import message_send

    client = Client(SERVER_NAME="127.0.0.1")
    client.cookies.load(cookie)
    out = {}
    for extra in (0, 150):
        conversation = Conversation.objects.get(pk=conversation_id)
        actor = conversation.group.memberships.first().user
        for k in range(extra):
            message_send(actor=actor, conversation_id=conversation_id, body=f"more history {k}", check_rate=False)
        stored = conversation.messages.count()
        for name, path in (
            ("conversation_page", f"/chats/{conversation_id}/"),
            ("history", f"/chats/{conversation_id}/messages/"),
        ):
            client.get(path)  # first request warms per-process caches
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path)
            out[f"{name}@{stored}"] = {"status": response.status_code, "queries": len(ctx.captured_queries)}
    return out


async def run_pages(plan: dict, concurrency: int, duration: float, pids: list[int]) -> dict:
    conversation = plan["conversations"][0]
    endpoints = {
        "conversation_page": f"/chats/{conversation}/",
        "history": f"/chats/{conversation}/messages/",
    }
    results = {}
    for name, path in endpoints.items():
        results[name] = await load_endpoint(plan, path, concurrency, duration, pids)
    ok = all(set(r["statuses"]) == {"200"} for r in results.values())
    return {"scenario": "pages", "ok": ok, "endpoints": results, "host_loadavg": loadgen.loadavg()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--server-pid", type=loadgen.pid_list, default=[])
    parser.add_argument("--queries", action="store_true", help="also count queries in process (needs the env)")
    parser.add_argument("--label", default="")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    plan = loadgen.load_plan(args.plan)
    result = asyncio.run(run_pages(plan, args.concurrency, args.duration, args.server_pid))
    result["label"] = args.label
    if args.queries:
        result["queries"] = count_queries(plan["conversations"][0], plan["clients"][0]["cookie"])
    text = json.dumps(result, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
