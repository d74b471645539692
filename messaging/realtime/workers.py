"""Where socket work runs: a small dedicated thread pool, and how outages are logged.

Database work runs on WS_DB_THREADS workers (so at most that many database
connections per process, each kept open under CONN_MAX_AGE) instead of
asgiref's single shared thread, where one slow query would hold up every socket
of the process. `database_sync_to_async` drops stale connections before and after
each call in the worker that runs it.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.db import database_sync_to_async
from django.conf import settings

from chatsite import outage

logger = logging.getLogger("messaging.realtime")

db_executor = ThreadPoolExecutor(max_workers=settings.WS_DB_THREADS, thread_name_prefix="ws-db")


def log_outage(what: str, *, exc_info: bool = True) -> None:
    """Log an outage once a minute per kind (chatsite.outage.log_outage)."""
    outage.log_outage(logger, what, exc_info=exc_info)


def in_db_thread(func):
    """Run ORM work on the socket worker pool, with stale connections closed around it."""
    return database_sync_to_async(func, thread_sensitive=False, executor=db_executor)


def in_thread(func):
    """Run other blocking work (Redis) on the same pool."""
    return SyncToAsync(func, thread_sensitive=False, executor=db_executor)
