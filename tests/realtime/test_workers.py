"""The socket workers' database connections (messaging.realtime.workers): with the pool (DB_POOL), a worker
keeps its connection between calls that come close together, instead of handing it back to the pool and
taking one again, with the pool's check, on every frame; an idle or broken one goes back to the pool."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import DatabaseError, OperationalError, connection, connections

from messaging.realtime import workers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not connection.settings_dict["OPTIONS"].get("pool"),
        reason="the pool is PostgreSQL's (DB_POOL); other set-ups close connections as Django does",
    ),
]


@pytest.fixture
def one_worker():
    """A pool of one worker, so consecutive calls run in the same thread."""
    executor = ThreadPoolExecutor(max_workers=1)

    def call(func):
        return workers.SocketDatabaseCall(func, thread_sensitive=False, executor=executor)()

    yield call
    executor.submit(connections.close_all).result()
    executor.shutdown()


def _query() -> tuple[bool, int]:
    """Whether the call found a connection open when it started, and the id of the one it used."""
    held = connection.connection is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return held, id(connection.connection)


async def test_calls_close_together_keep_the_workers_connection(one_worker):
    held, first = await one_worker(_query)
    assert not held  # the first call takes one from the pool
    for _ in range(3):
        held, again = await one_worker(_query)
        assert held and again == first


async def test_an_idle_connection_goes_back_to_the_pool_before_the_next_call(one_worker, monkeypatch):
    await one_worker(_query)
    monkeypatch.setattr(workers, "HOLD_SECONDS", 0.0)
    held, _ = await one_worker(_query)
    assert not held  # taken from the pool again, through its check


async def test_a_connection_that_failed_goes_back_to_the_pool(one_worker):
    await one_worker(_query)

    with pytest.raises(DatabaseError):
        await one_worker(_broken)
    held, _ = await one_worker(_query)
    assert not held


def _broken() -> None:
    """A call whose statement fails: its connection is in error."""
    with connection.cursor() as cursor:
        cursor.execute("SELEC 1")


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


async def _terminate(pid: int) -> None:
    """End that connection from PostgreSQL's side, as a database restart would."""

    def terminate() -> None:
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    await asyncio.to_thread(terminate)


async def test_a_connection_lost_while_idle_is_replaced_before_the_next_call(one_worker, monkeypatch):
    pid = await one_worker(_backend_pid)
    await _terminate(pid)
    monkeypatch.setattr(workers, "HOLD_SECONDS", 0.0)  # the worker has been idle
    assert await one_worker(_backend_pid) != pid  # the pool's check found it gone: no error for the caller


async def test_a_connection_lost_between_close_calls_fails_one_call_then_is_replaced(one_worker):
    pid = await one_worker(_backend_pid)
    await _terminate(pid)
    with pytest.raises(OperationalError):  # answered `unavailable` on a socket: nothing was changed
        await one_worker(_query)
    held, _ = await one_worker(_query)
    assert not held
    assert await one_worker(_backend_pid) != pid


@pytest.fixture
def two_workers():
    """Two single-thread workers, each keeping its own connection."""
    executors = [ThreadPoolExecutor(max_workers=1), ThreadPoolExecutor(max_workers=1)]

    def on(index: int):
        return lambda func: workers.SocketDatabaseCall(func, thread_sensitive=False, executor=executors[index])()

    yield on(0), on(1)
    for executor in executors:
        executor.submit(connections.close_all).result()
        executor.shutdown()


async def test_a_failure_on_one_worker_makes_the_others_drop_the_connections_they_hold(two_workers):
    """A database restart ends every connection: the worker whose call finds out answers `unavailable`,
    and the others take a checked connection from the pool for their next call instead of failing in turn."""
    first, second = two_workers
    await first(_query)
    pid = await second(_backend_pid)
    await _terminate(pid)

    with pytest.raises(DatabaseError):
        await first(_broken)
    assert await second(_backend_pid) != pid  # no error: its dead connection went back before the call


async def test_a_call_that_could_not_get_a_connection_counts_as_a_failure(two_workers):
    """The pool timing out (the database unreachable) leaves the failing worker without a connection; the
    other workers still drop theirs."""
    first, second = two_workers
    pid = await second(_backend_pid)
    await _terminate(pid)

    def no_connection() -> None:
        connection.close()
        with connection.wrap_database_errors:
            raise psycopg.OperationalError("couldn't get a connection after 1.00 sec")

    with pytest.raises(OperationalError):
        await first(no_connection)
    assert await second(_backend_pid) != pid
