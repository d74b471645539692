"""Limits on what one socket or user may send, checked in memory with no I/O per frame.

Scopes (see docs/protocol.md, "WebSocket"); message writes are limited per user in
the services (chatsite.ratelimit), for every way in:
- sockets: at most WS_MAX_SOCKETS_PER_USER per user in this process;
- `typing`: relayed at most once per WS_TYPING_INTERVAL per user and conversation
  (per process, like the bucket); the extra frames are dropped silently.
- every client frame: a per-socket bucket (WS_FRAME_RATE / WS_FRAME_BURST), so
  reads and syncs cannot be used to hammer the database.
- abuse: WS_ABUSE_ERRORS error frames within WS_ABUSE_WINDOW seconds close the socket.
"""

import time
from collections import deque
from dataclasses import dataclass, field

from django.conf import settings


class TokenBucket:
    """`capacity` tokens at most, refilled at `rate` per second; each action takes one."""

    __slots__ = ("capacity", "rate", "tokens", "updated")

    def __init__(self, rate: float, capacity: float):
        self.rate = float(rate)
        self.capacity = float(capacity)
        self.tokens = float(capacity)
        self.updated = time.monotonic()

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class UserLimits:
    """What the sockets of one user in this process share."""

    typing_at: dict[int, float] = field(default_factory=dict)
    sockets: int = 0

    def typing_allowed(self, conversation_id: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        last = self.typing_at.get(conversation_id)
        if last is not None and now - last < settings.WS_TYPING_INTERVAL:
            return False
        self.typing_at[conversation_id] = now
        return True


_users: dict[int, UserLimits] = {}


def acquire(user_id: int) -> UserLimits:
    """The user's shared limits; call `release` when the socket closes."""
    limits = _users.get(user_id)
    if limits is None:
        limits = UserLimits()
        _users[user_id] = limits
    limits.sockets += 1
    return limits


def sockets_open(user_id: int) -> int:
    """How many sockets the user has open on this process (WS_MAX_SOCKETS_PER_USER caps it)."""
    limits = _users.get(user_id)
    return 0 if limits is None else limits.sockets


def release(user_id: int) -> None:
    limits = _users.get(user_id)
    if limits is None:
        return
    limits.sockets -= 1
    if limits.sockets <= 0:
        del _users[user_id]


def reset() -> None:
    """Forget every user's state (tests start clean)."""
    _users.clear()


def frame_bucket() -> TokenBucket:
    return TokenBucket(settings.WS_FRAME_RATE, settings.WS_FRAME_BURST)


class AbuseMeter:
    """Error frames sent to one socket in a sliding window; too many and it is closed."""

    __slots__ = ("limit", "times", "window")

    def __init__(self, limit: int | None = None, window: float | None = None):
        self.limit = settings.WS_ABUSE_ERRORS if limit is None else limit
        self.window = settings.WS_ABUSE_WINDOW if window is None else window
        self.times: deque[float] | None = None  # made on the first error: most sockets never get one

    def strike(self, now: float | None = None) -> bool:
        """Record one error; True when the socket has now had too many."""
        now = time.monotonic() if now is None else now
        if self.times is None:
            self.times = deque()
        self.times.append(now)
        while self.times and now - self.times[0] > self.window:
            self.times.popleft()
        return len(self.times) >= self.limit
