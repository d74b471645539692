"""The socket's building blocks: token bucket, abuse meter, and the presence store in use."""

import uuid

import pytest

from messaging.realtime import presence as realtime_presence
from messaging.realtime.limits import AbuseMeter, TokenBucket


def test_the_token_bucket_allows_a_burst_then_the_sustained_rate():
    bucket = TokenBucket(rate=2.0, capacity=3)
    start = bucket.updated
    assert [bucket.take(start) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(start + 0.5)  # one token back after 1/rate seconds
    assert not bucket.take(start + 0.5)
    assert [bucket.take(start + 100) for _ in range(4)] == [True, True, True, False]  # never more than capacity


def test_the_abuse_meter_counts_errors_in_a_sliding_window():
    meter = AbuseMeter(limit=3, window=10.0)
    assert not meter.strike(0.0) and not meter.strike(5.0)
    assert not meter.strike(11.0)  # the first one has left the window
    assert meter.strike(12.0)  # three within ten seconds


@pytest.fixture
def store(settings, presence_clock):
    settings.WS_PRESENCE_TTL = 30  # Redis also drops the whole key after TTL + 1 real seconds: keep that far off
    return realtime_presence.store()


def test_presence_counts_sockets_and_reports_the_first_and_last(store, db):
    user = 10_000 + uuid.uuid4().int % 1_000_000  # no real user needed: the store keys by id
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    assert store.opened(user, first) is True
    assert store.opened(user, second) is False
    assert store.online_among([user, user + 1]) == {user}
    assert store.closed(user, first) is False
    assert store.closed(user, second) is True
    assert store.online_among([user]) == set()


def test_sockets_that_stop_refreshing_expire(store, presence_clock, db):
    """A crashed process's sockets stop counting after WS_PRESENCE_TTL; a refreshed one stays."""
    user = 10_000 + uuid.uuid4().int % 1_000_000
    crashed, alive = uuid.uuid4().hex, uuid.uuid4().hex
    store.opened(user, crashed)
    store.opened(user, alive)
    presence_clock.advance(20)
    store.refresh(user, alive)
    presence_clock.advance(20)  # past the TTL for `crashed`, within it for `alive`
    assert store.online_among([user]) == {user}
    assert store.closed(user, alive) is True  # the crashed one no longer holds the user online
    store.opened(user, crashed)
    presence_clock.advance(40)
    assert store.online_among([user]) == set()
    assert store.opened(user, alive) is True  # so the next socket announces the user online again


def test_opening_and_looking_up_co_members_in_one_round_trip(store, presence_clock, db):
    user = 10_000 + uuid.uuid4().int % 1_000_000
    friend, stranger = user + 1, user + 2
    first, second, friends_socket = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    store.opened(friend, friends_socket)
    assert store.opened_among(user, first, [friend, stranger]) == (True, {friend})
    assert store.opened_among(user, second, []) == (False, set())
    presence_clock.advance(20)
    store.refresh_many([(user, first), (friend, friends_socket)])
    presence_clock.advance(20)  # past the TTL for `second`, which was not refreshed
    assert store.online_among([user, friend, stranger]) == {user, friend}
    assert store.closed(user, first) is True
    store.closed(friend, friends_socket)
