"""What the benchmark scripts share: a free port, a server process waited for until it listens,
a logged-in session cookie, and a freshly created bench database.

The scripts run as `python bench/<script>.py`, so this folder is on `sys.path` and they
`import serving`.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Return once `proc` listens on `port`; raise if it exits first or takes longer than `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def spawn(
    argv: list[str],
    port: int,
    log_path: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 20.0,
) -> subprocess.Popen:
    """Start a server process, its output appended to `log_path`, and return it once it listens on
    `port`; if it does not, it is killed and the error names the log."""
    log = log_path.open("ab")
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    try:
        wait_for_port(port, proc, timeout=timeout)
    except BaseException as error:
        proc.kill()
        proc.wait()
        if isinstance(error, RuntimeError):
            raise RuntimeError(f"{error}; see {log_path}") from None
        raise
    return proc


def start_app_server(python: str, env: dict[str, str], log_path: Path, *, pin: bool) -> tuple[subprocess.Popen, int]:
    """The production server (`python -m chatsite.serve`) on a free port, pinned to CPU 0 with `pin`.
    Returns (process, port) once it listens."""
    port = free_port()
    prefix = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    argv = [*prefix, python, "-m", "chatsite.serve", "--host", HOST, "--port", str(port)]
    return spawn(argv, port, log_path, env=env, cwd=PROJECT_DIR, timeout=60.0), port


def session_cookie(user) -> str:
    """A `Cookie` header value logging `user` in (Django set up in this process)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def recreate_database(database_url: str) -> None:
    """Drop and create the PostgreSQL database of `database_url`; refused unless its name contains "bench"."""
    import psycopg  # the project's own driver; imported here so peer-only runs do not need it

    base, _, name = database_url.rpartition("/")
    if not name.replace("_", "").isalnum() or "bench" not in name:
        raise RuntimeError(f"refusing to re-create database {name!r}: its name must contain 'bench'")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(python: str, env: dict[str, str], commands: list[list[str]]) -> None:
    """Run each `manage.py` command of `commands` (e.g. `[["migrate"]]`), quietly, with `env`."""
    for command in commands:
        argv = [python, "manage.py", *command, "--noinput", "-v", "0"]
        subprocess.run(argv, cwd=PROJECT_DIR, env=env, check=True)
