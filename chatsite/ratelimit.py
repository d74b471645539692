"""Fixed-window counters in Django's cache, shared by every process when the cache is Redis.

One counter per key and window: `hit` adds one and says whether the count is
still within `limit`. On Redis it is a single command (a small script: INCR,
and EXPIRE on the window's first hit, atomic as every script); on the
local-memory cache it is `add` then `incr`, under that cache's lock. A fixed window lets up to twice `limit` through
across a window boundary; that is the price of one round trip instead of a
sliding log.

A cache that is down lets the action through (and logs): limits protect the
service, they must not stop it.
"""

import hashlib
import logging
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from chatsite.errors import RateLimited
from chatsite.outage import log_outage

logger = logging.getLogger(__name__)


# One command and one reply per hit: a MULTI pipeline (SET NX EX, INCR) cost twice the client CPU
# (bench/message_cpu.py, BENCHMARKS.md "Round two"). A script runs atomically, so the key never
# exists without its expiry.
COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_count_script = None


def _count_redis(cache: RedisCache, key: str, window: int) -> int:
    global _count_script
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)  # Django's own connection pool for this cache
    if _count_script is None:
        _count_script = client.register_script(COUNT_SCRIPT)  # EVALSHA, loading the script when Redis lacks it
    return _count_script(keys=[full_key], args=[window], client=client)


def _count_generic(cache, key: str, window: int) -> int:
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(key, 1, timeout=window)
        return 1


def hit(name: str, ident: object, *, limit: int, window: int) -> bool:
    """Count one action of `ident` under `name`; False when it is over `limit` in the current window."""
    window = max(1, int(window))
    key = f"rate:{name}:{ident}:{int(time.time() // window)}"
    cache = caches["default"]
    try:
        if isinstance(cache, RedisCache):
            count = _count_redis(cache, key, window + 1)
        else:
            count = _count_generic(cache, key, window + 1)
    except Exception:
        log_outage(logger, f"rate limit counter {name} unavailable: letting actions through")
        return True
    return count <= limit


def check(*, scope: str, ident: str, limit: int, window: int) -> None:
    """`hit`, raising RateLimited (with `retry_after`, seconds to the window's end) when over `limit`.

    `ident` is hashed: these counters are keyed by email addresses, which do not belong in key names.
    """
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    if hit(scope, digest, limit=limit, window=window):
        return
    error = RateLimited("Too many requests. Wait a while and try again.")
    error.retry_after = seconds_left(window)
    raise error


def seconds_left(window: int) -> int:
    """Whole seconds until the current window (of `hit`'s) ends: a refusal's `Retry-After`."""
    window = max(1, int(window))
    return max(1, window - int(time.time()) % window)
