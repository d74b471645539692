"""The enumeration limit on people lookups: at most `PEOPLE_LOOKUP_LIMIT` per user per `PEOPLE_LOOKUP_WINDOW`.

A fixed window counted in the cache (Redis when configured, so shared by every
process): `cache.add` starts the window's counter, `cache.incr` counts atomically.
Directory pages, the autocomplete endpoint and profiles all draw on the same budget,
so walking the directory page by page or typing every prefix costs the same.
"""

import time

from django.conf import settings
from django.core.cache import cache

from chatsite.errors import RateLimited


class LookupsLimited(RateLimited):
    detail = "Too many people lookups in a short time. Wait a minute and try again."

    def __init__(self, retry_after: int):
        super().__init__()
        self.retry_after = retry_after


def lookup_count(user_id: int) -> None:
    """Count one lookup for the user; LookupsLimited when the window's budget is spent."""
    window = settings.PEOPLE_LOOKUP_WINDOW
    now = time.time()
    key = f"people-lookups:{user_id}:{int(now // window)}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: this lookup opens a new window
        cache.add(key, 1, timeout=window + 5)
        count = 1
    if count > settings.PEOPLE_LOOKUP_LIMIT:
        raise LookupsLimited(retry_after=max(1, int(window - now % window) + 1))
