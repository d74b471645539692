"""Who is online, across every server process: the open sockets of each user.

A user is online while at least one of their sockets is open. With Redis
(REDIS_URL) each user has a sorted set of socket ids scored by an expiry time:
each process refreshes its sockets' entries each WS_PRESENCE_TTL / 3 seconds
(messaging.realtime.heartbeat, one pipeline for all of them), and every
change first prunes expired entries, so the sockets of a crashed process stop
counting after WS_PRESENCE_TTL instead of keeping the user online forever (a
plain counter would leak them). Opening and closing each run as one script
(atomic), so only one socket anywhere sees the 0 → 1 or 1 → 0 change and
announces it.

Without Redis there is one process (the in-memory channel layer cannot span
more), and the same structure lives in a dict.

These functions block (network I/O): call them from a worker thread.
"""

import threading
import time
from collections.abc import Iterable
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache


def _ttl() -> float:
    return float(settings.WS_PRESENCE_TTL)


# Opening and closing are each one script: atomic like the MULTI they replace (only one socket
# anywhere sees the 0 -> 1 or 1 -> 0 change), but one command to send and one reply to read
# instead of a transaction of one command per co-member (BENCHMARKS.md, "connect").
# KEYS: the user's key, then the co-members' keys. ARGV: now, the socket's expiry, the key's TTL
# in seconds, the socket id. Returns how many sockets the user had, and the (1-based) positions
# of the co-members online.
_OPEN_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local before = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local online = {}
for i = 2, #KEYS do
    if redis.call('ZCOUNT', KEYS[i], ARGV[1], '+inf') > 0 then online[#online + 1] = i - 1 end
end
return {before, online}
"""
# KEYS: the user's key. ARGV: the socket id, now. Returns how many sockets the user has left.
_CLOSE_SCRIPT = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
return redis.call('ZCARD', KEYS[1])
"""


class RedisPresence:
    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url)
        self.open_script = self.client.register_script(_OPEN_SCRIPT)
        self.close_script = self.client.register_script(_CLOSE_SCRIPT)

    @staticmethod
    def key(user_id: int) -> str:
        # The cache's prefix (CACHE_KEY_PREFIX) keeps deployments sharing one Redis apart.
        return django_cache.make_key(f"presence:{user_id}")

    @staticmethod
    def keys(user_ids: Iterable[int]) -> list[str]:
        """`key` of each: the cache is looked up once through its proxy, not once per key (57 keys: 0.13 ms
        before, 0.02 ms now)."""
        make_key = django_cache.make_key
        return [make_key(f"presence:{user_id}") for user_id in user_ids]

    def opened(self, user_id: int, socket_id: str) -> bool:
        """Count a socket in; whether the user just came online."""
        return self.opened_among(user_id, socket_id, ())[0]

    def closed(self, user_id: int, socket_id: str) -> bool:
        """Count a socket out; whether the user just went offline."""
        return self.close_script(keys=[self.key(user_id)], args=[socket_id, repr(time.time())]) == 0

    def opened_among(self, user_id: int, socket_id: str, among: Iterable[int]) -> tuple[bool, set[int]]:
        """`opened`, and which of `among` are online, in one round trip (one script)."""
        among = list(among)
        now, ttl = time.time(), _ttl()
        keys = self.keys([user_id, *among])
        before, online = self.open_script(keys=keys, args=[repr(now), repr(now + ttl), int(ttl) + 1, socket_id])
        return before == 0, {among[position - 1] for position in online}

    def refresh(self, user_id: int, socket_id: str) -> None:
        self.refresh_many([(user_id, socket_id)])

    def refresh_many(self, sockets: Iterable[tuple[int, str]], batch: int = 500) -> None:
        """Refresh many sockets' entries, `batch` sockets a round trip."""
        sockets = list(sockets)
        ttl = _ttl()
        for start in range(0, len(sockets), batch):
            now = time.time()
            pipe = self.client.pipeline(transaction=False)  # each socket's pair stands alone
            chunk = sockets[start : start + batch]
            for key, (_user_id, socket_id) in zip(self.keys(u for u, _s in chunk), chunk, strict=True):
                pipe.zadd(key, {socket_id: now + ttl})
                pipe.expire(key, int(ttl) + 1)
            pipe.execute()

    def online_among(self, user_ids: Iterable[int]) -> set[int]:
        user_ids = list(user_ids)
        if not user_ids:
            return set()
        now = time.time()
        pipe = self.client.pipeline(transaction=False)
        for key in self.keys(user_ids):
            pipe.zcount(key, now, "+inf")
        return {user_id for user_id, count in zip(user_ids, pipe.execute(), strict=True) if count}


class LocalPresence:
    """The same bookkeeping for a single process."""

    def __init__(self):
        self.lock = threading.RLock()
        self.sockets: dict[int, dict[str, float]] = {}

    def _live(self, user_id: int, now: float) -> dict[str, float]:
        entries = self.sockets.get(user_id, {})
        for socket_id, expiry in list(entries.items()):
            if expiry <= now:
                del entries[socket_id]
        return entries

    def opened(self, user_id: int, socket_id: str) -> bool:
        now = time.time()
        with self.lock:
            before = len(self._live(user_id, now))
            self.sockets.setdefault(user_id, {})[socket_id] = now + _ttl()
            return before == 0

    def closed(self, user_id: int, socket_id: str) -> bool:
        now = time.time()
        with self.lock:
            entries = self._live(user_id, now)
            entries.pop(socket_id, None)
            if entries:
                return False
            self.sockets.pop(user_id, None)
            return True

    def opened_among(self, user_id: int, socket_id: str, among: Iterable[int]) -> tuple[bool, set[int]]:
        with self.lock:
            return self.opened(user_id, socket_id), self.online_among(among)

    def refresh(self, user_id: int, socket_id: str) -> None:
        self.refresh_many([(user_id, socket_id)])

    def refresh_many(self, sockets: Iterable[tuple[int, str]]) -> None:
        with self.lock:
            expiry = time.time() + _ttl()
            for user_id, socket_id in sockets:
                self.sockets.setdefault(user_id, {})[socket_id] = expiry

    def online_among(self, user_ids: Iterable[int]) -> set[int]:
        now = time.time()
        with self.lock:
            return {user_id for user_id in user_ids if self._live(user_id, now)}

    def reset(self) -> None:
        with self.lock:
            self.sockets.clear()


@cache
def store() -> RedisPresence | LocalPresence:
    """The process's presence store, chosen once from settings."""
    if settings.REDIS_URL:
        return RedisPresence(settings.REDIS_URL)
    return LocalPresence()
