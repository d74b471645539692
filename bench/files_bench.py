"""The `files` scenario: uploads of 1 MiB and 20 MiB files, and a conversation page of 50 image messages.

    python bench/files_bench.py                 # 40 uploads of 1 MiB, 8 of 20 MiB, page load 10 s
    python bench/files_bench.py --quick         # fewer of each (results go to bench/results/tmp/)

On its own SQLite database and MEDIA_ROOT in a temporary folder (nothing else is touched):
1. Two users in a group, and `python -m chatsite.serve` (DEBUG=0, pinned to CPU 0 when taskset
   is present) with FILES_SERVE=app.
2. Uploads: POST /chats/<id>/attachments/ of random (incompressible) files of 1 MiB and 20 MiB,
   one client at a time, then a download of each: MiB/s and p50/p99 per request, and the server's
   resident memory (VmRSS, sampled every 20 ms) before, at its peak and after each size. Uploads
   stream to a temporary file and on to storage; downloads stream from storage in chunks, so the
   peak should stay near the baseline whatever the file size.
3. The conversation page with 50 messages of one image each: requests per second and p50/p99 with
   10 concurrent clients for --duration seconds, and the number of SQL queries of one page view
   at 1 and at 50 image messages (the same: attachments load in one query for the page).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from serving import HOST, session_cookie, start_app_server

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
SECRET_KEY = "bench-only-secret-key-" + "x" * 40
BOUNDARY = "chatsitebenchboundary"


def env(workdir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": HOST,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "FILES_SERVE": "app",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(workdir / "static"),
        **extra,
    }


def setup_django(workdir: Path) -> None:
    os.environ.update(env(workdir))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def start_server(workdir: Path, pin: bool) -> tuple[subprocess.Popen, int]:
    return start_app_server(sys.executable, env(workdir), workdir / "server.log", pin=pin)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """The server's resident memory every 20 ms while a block runs: its peak."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self):
        self.before = rss_mib(self.pid)
        self.peak = self.before
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.after = rss_mib(self.pid)


def multipart(name: str, content: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def csrf_pair() -> tuple[str, str]:
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    return secret, _mask_cipher_secret(secret)


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
    }


def uploads(port: int, pid: int, cookie: str, conversation_id: int, size_mib: int, count: int) -> dict:
    secret, token = csrf_pair()
    headers = {
        "Cookie": f"{cookie}; csrftoken={secret}",
        "X-CSRFToken": token,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Accept": "application/json",
    }
    up_ms, down_ms, ids, errors = [], [], [], 0
    with RssSampler(pid) as memory:
        for n in range(count):
            body = multipart(f"file{n}.bin", os.urandom(size_mib * 1024 * 1024))
            connection = http.client.HTTPConnection(HOST, port, timeout=120)
            started = time.perf_counter()
            connection.request("POST", f"/chats/{conversation_id}/attachments/", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            up_ms.append((time.perf_counter() - started) * 1000)
            if response.status != 201:
                errors += 1
                continue
            ids.append(json.loads(data)["attachment"]["id"])
            started = time.perf_counter()
            connection.request("GET", f"/files/{ids[-1]}/", headers={"Cookie": cookie})
            response = connection.getresponse()
            while response.read(1024 * 1024):
                pass
            down_ms.append((time.perf_counter() - started) * 1000)
            connection.close()
    mib = size_mib * len(up_ms)
    return {
        "size_mib": size_mib,
        "files": count,
        "errors": errors,
        "upload_mib_per_s": round(mib / (sum(up_ms) / 1000), 1) if up_ms else None,
        "upload_ms": percentiles(up_ms) if up_ms else None,
        "download_mib_per_s": round(size_mib * len(down_ms) / (sum(down_ms) / 1000), 1) if down_ms else None,
        "download_ms": percentiles(down_ms) if down_ms else None,
        "server_rss_mib": {
            "before": round(memory.before, 1),
            "peak": round(memory.peak, 1),
            "after": round(memory.after, 1),
        },
    }


def image_messages(author, conversation_id: int, count: int) -> None:
    """`count` messages of one 1200x800 photo each, through the real upload and send services."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from messaging import attachments, services

    for n in range(count):
        out = io.BytesIO()
        Image.new("RGB", (1200, 800), (n * 5 % 255, 90, 160)).save(out, "JPEG", quality=85)
        upload = SimpleUploadedFile(f"photo{n}.jpg", out.getvalue(), content_type="image/jpeg")
        attachment = attachments.attachment_upload(actor=author, conversation_id=conversation_id, upload=upload)
        services.message_send(
            actor=author,
            conversation_id=conversation_id,
            body=f"photo {n}",
            attachments=[attachment.pk],
            check_rate=False,
        )


def page_queries(user, conversation_id: int) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    client.get(f"/chats/{conversation_id}/")  # the first view moves the read marker
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/chats/{conversation_id}/").status_code == 200
    return len(queries)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=40, help="uploads of 1 MiB")
    parser.add_argument("--large", type=int, default=8, help="uploads of 20 MiB")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of page load")
    parser.add_argument("--quick", action="store_true", help="10 small, 2 large, 3 s of page load")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "tmp" / "chatsite-files.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.small, args.large, args.duration = 10, 2, 3.0
    workdir = Path(tempfile.mkdtemp(prefix="chatsite-files-bench-"))
    proc = None
    try:
        for command in (["migrate"], ["collectstatic"]):  # DEBUG=0 pages need the hashed static files
            subprocess.run(
                [sys.executable, "manage.py", *command, "--noinput", "-v", "0"],
                cwd=PROJECT_DIR,
                env=env(workdir),
                check=True,
            )
        setup_django(workdir)
        from accounts.services import user_create
        from groups.services import group_create
        from messaging.selectors import default_conversation

        alice = user_create(username="alice", email="alice@example.com", password="bench password 123")
        bob = user_create(username="bob", email="bob@example.com", password="bench password 123")
        conversation = default_conversation(group_create(actor=alice, name="Bench", member_usernames=["bob"]))
        photos = default_conversation(group_create(actor=alice, name="Photos", member_usernames=["bob"]))
        image_messages(alice, photos.pk, 1)
        queries_1 = page_queries(bob, photos.pk)
        image_messages(alice, photos.pk, 49)
        queries_50 = page_queries(bob, photos.pk)

        proc, port = start_server(workdir, pin=not args.no_pin)
        cookie = session_cookie(alice)
        result = {
            "scenario": "files",
            "ok": True,
            "uploads": [
                uploads(port, proc.pid, cookie, conversation.pk, 1, args.small),
                uploads(port, proc.pid, cookie, conversation.pk, 20, args.large),
            ],
            "page_queries": {"1_image_message": queries_1, "50_image_messages": queries_50},
        }
        sys.path.insert(0, str(BENCH_DIR))
        import pages

        plan = {"http": f"http://{HOST}:{port}", "clients": [{"cookie": session_cookie(bob)}]}
        page = asyncio.run(pages.load_endpoint(plan, f"/chats/{photos.pk}/", 10, args.duration, [proc.pid]))
        result["page"] = {
            "requests_per_s": page["requests_per_s"],
            "latency_ms": page["latency_ms"],
            "statuses": page["statuses"],
            "server_cpu_ms_per_request": page["server"]["cpu_ms_per_request"],
        }
        result["ok"] = all(u["errors"] == 0 for u in result["uploads"]) and queries_1 == queries_50
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
