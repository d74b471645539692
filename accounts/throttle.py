"""Sliding-window login throttling, per account and per client address.

Failures are kept as timestamps in the Django cache (Redis when REDIS_URL is
set, so every process shares them). A hand-written window is used instead of a
throttling library because the account key must be the *resolved* account:
"alice" and "alice@example.com" are the same account, and an unknown name is
throttled by its normalised text so probing gives nothing away.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, ident: str) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _recent(key: str, now: float) -> list[float]:
    window = settings.LOGIN_FAILURE_WINDOW
    return [t for t in cache.get(key, []) if t > now - window]


def _limits(account: str, address: str) -> list[tuple[str, int]]:
    return [
        (_key("account", account), settings.LOGIN_MAX_FAILURES_PER_ACCOUNT),
        (_key("address", address), settings.LOGIN_MAX_FAILURES_PER_ADDRESS),
    ]


def retry_after(*, account: str, address: str) -> int:
    """Seconds until a login for this account from this address may be tried; 0 if allowed now."""
    now = time.time()
    wait = 0.0
    for key, limit in _limits(account, address):
        recent = _recent(key, now)
        if len(recent) >= limit:
            # The window slides: the oldest counted failure must age out first.
            oldest = sorted(recent)[len(recent) - limit]
            wait = max(wait, oldest + settings.LOGIN_FAILURE_WINDOW - now)
    return int(wait) + 1 if wait > 0 else 0


def record_failure(*, account: str, address: str) -> None:
    now = time.time()
    for key, limit in _limits(account, address):
        recent = _recent(key, now)
        recent.append(now)
        cache.set(key, recent[-limit:], timeout=settings.LOGIN_FAILURE_WINDOW)


def reset_account(*, account: str) -> None:
    cache.delete(_key("account", account))
