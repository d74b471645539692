"""Where socket work runs: a small dedicated thread pool, and how outages are logged.

Database work runs on WS_DB_THREADS workers (so at most that many database
connections per process) instead of asgiref's single shared thread, where one
slow query would hold up every socket of the process. Stale connections are
dropped before and after each call in the worker that runs it, as
`database_sync_to_async` does, with one difference for a pooled connection (DB_POOL):
a worker keeps it between calls that come within HOLD_SECONDS of each other.
`database_sync_to_async` handed it back to the pool after every call, and took one
again for the next, with the pool's check (a round trip to PostgreSQL) each time:
0.67 ms per sent message in bench/message_cpu.py's profile, against 0.15 now
(BENCHMARKS.md, "Issue 17, round two"). A
connection idle for longer goes back to the pool before the call, and the one the
call takes is checked as before: a database that restarted while the sockets were
quiet is found out by the check, not by a client's frame.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections

from chatsite import outage

logger = logging.getLogger("messaging.realtime")

db_executor = ThreadPoolExecutor(max_workers=settings.WS_DB_THREADS, thread_name_prefix="ws-db")


def log_outage(what: str, *, exc_info: bool = True) -> None:
    """Log an outage once a minute per kind (chatsite.outage.log_outage)."""
    outage.log_outage(logger, what, exc_info=exc_info)


# How long a worker keeps a pooled connection it is not using (see the module docstring).
HOLD_SECONDS = 1.0

# Bumped by a worker whose call found its connection in error (the database gone, a restart): every worker
# then hands its held connection back before its next call, so the pool's check replaces the dead ones and
# one outage costs one failed frame, not one per worker still holding a connection from before it.
_epoch = 0


def _settle_connections(*, before: bool) -> None:
    """`close_old_connections` for a socket worker: a pooled connection in good order stays with the
    worker while its calls come close together; everything else is closed (back to the pool) as before."""
    global _epoch
    now = time.monotonic()
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            if not before and conn.errors_occurred:  # the call could not get a connection (the pool timed out)
                conn.errors_occurred = False  # as connect() leaves it
                _epoch += 1
            continue
        if getattr(conn, "pool", None) is None:  # SQLite, or persistent connections (CONN_MAX_AGE)
            conn.close_if_unusable_or_obsolete()
            continue
        if before:
            last_used = getattr(conn, "worker_last_used", None)
            if last_used is None or now - last_used > HOLD_SECONDS or conn.worker_epoch != _epoch:
                conn.close()  # idle, or held across another worker's failure: the pool checks the next one
            continue
        # After the call: Django's own reasons to drop a connection, without its round trip to ask.
        if conn.errors_occurred:
            _epoch += 1
            conn.close()
            continue
        if conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
            conn.close()
            continue
        conn.worker_last_used = now
        conn.worker_epoch = _epoch


class SocketDatabaseCall(SyncToAsync):
    """`database_sync_to_async`, with the connection handling of `_settle_connections`."""

    def thread_handler(self, loop, *args, **kwargs):
        _settle_connections(before=True)
        try:
            return super().thread_handler(loop, *args, **kwargs)
        finally:
            _settle_connections(before=False)


def in_db_thread(func):
    """Run ORM work on the socket worker pool, with stale connections closed around it."""
    return SocketDatabaseCall(func, thread_sensitive=False, executor=db_executor)


def in_thread(func):
    """Run other blocking work (Redis) on the same pool."""
    return SyncToAsync(func, thread_sensitive=False, executor=db_executor)
