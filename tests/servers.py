"""The app in a real server subprocess, for the browser, multi-process and production tests.

The subprocess is the production entry point, `python -m chatsite.serve` (uvicorn
with the deployed options), so these tests run the server operators run.

One helper for all of them so that start-up, the database the subprocess uses,
shutdown and log capture are done (and fixed) in one place. The subprocess runs
on this test run's database: tests that use it are transactional, so their rows
are committed and visible to it.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

# Seconds for the server to answer its first HTTP request. Only a server that never comes up
# waits that long; on a loaded machine, start-up and the first /healthz (database and Redis
# connections) have taken more than 30 s.
STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The URL of the database this test run uses, for a server in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        auth = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{db['NAME']}"
    raise RuntimeError(f"no server subprocess support for {connection.vendor}")


def server_env(**overrides: object) -> dict[str, str]:
    """This process's environment pointed at the test database, plus `overrides` (e.g. DEBUG)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        {
            "SECRET_KEY": settings.SECRET_KEY,
            "DATABASE_URL": database_url(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class AppServer:
    """`python -m chatsite.serve` on 127.0.0.1; can be stopped and started again on the same port.

    With `hand_over_socket`, the test binds the listening socket first and the
    server takes it by file descriptor (`--fd`), so two servers started at once
    cannot race for a port; otherwise the server binds a free port itself
    (`--port`), which refuses connections while it is stopped, as a crashed
    server would.
    """

    def __init__(
        self, log_path: Path, *, env: dict[str, str], hand_over_socket: bool = False, server: str = "chatsite.serve"
    ):
        assert server in ("chatsite.serve", "daphne"), server  # daphne: what `make run` serves with
        assert not (hand_over_socket and server == "daphne"), "daphne binds its own port here"
        self.server = server
        self.listener: socket.socket | None = None
        if hand_over_socket:
            self.listener = socket.socket()
            self.listener.bind(("127.0.0.1", 0))
            self.listener.listen(128)
            self.port = self.listener.getsockname()[1]
        else:
            self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None
        self._log = None

    def start(self, *, wait: bool = True) -> None:
        assert self.process is None, "already running"
        if self.listener is not None:
            fd = self.listener.fileno()
            bind, pass_fds = ["--fd", str(fd)], [fd]
        else:
            bind, pass_fds = ["--host", "127.0.0.1", "--port", str(self.port)], []
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the subprocess, closed in stop()
        if self.server == "daphne":
            command = ["daphne", "-b", "127.0.0.1", "-p", str(self.port), "chatsite.asgi:application"]
        else:
            command = ["chatsite.serve", *bind]
        self.process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=settings.BASE_DIR,
            env=self.env,
            pass_fds=pass_fds,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, path: str = "/healthz") -> None:
        """Until the server answers HTTP (any status); raises with its log if it exits or stays silent."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                # A request the server has accepted is waited for until the deadline: giving up on
                # a slow first answer and asking again only queues more work for a busy server.
                remaining = max(0.1, deadline - time.monotonic())
                with urllib.request.urlopen(f"{self.url}{path}", timeout=remaining):  # noqa: S310 - loopback URL
                    return
            except urllib.error.HTTPError:
                return  # it answered
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """End the process (the listening socket, if handed over, stays for a restart; see `close`)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        self._log.close()

    def close(self) -> None:
        """Stop for good."""
        self.stop()
        if self.listener is not None:
            self.listener.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
