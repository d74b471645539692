"""Sliding-window login throttling, per account and per client address.

Each failure occupies one of `limit` slots, a cache key that lives exactly one
window (`LOGIN_FAILURE_WINDOW`) and holds the failure's timestamp. An attempt
first *claims* a free slot with `cache.add` (atomic: SET NX on Redis, a lock in
the local-memory cache), then checks the password. So concurrent guesses, in one
process or many sharing Redis, can never get more than `limit` checks through:
when every slot is taken the attempt is refused, and it is refused before the
password is looked at, so the right password does not help either. A slot
expiring is the window sliding past that failure. A success gives its slots
back: the account's count starts again, and the address is not charged.

The account key must be the *resolved* account: "alice" and "alice@example.com"
are the same account, and an unknown name is throttled by its normalised text,
so probing answers the same whether the account exists or not.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from chatsite.errors import RateLimited


class LoginLocked(RateLimited):
    """Too many recent failures for this account or from this address."""

    detail = "Too many failed log-in attempts. Wait a while and try again."

    def __init__(self, retry_after: int, *, scope: str):
        super().__init__()
        self.retry_after = retry_after
        self.scope = scope  # "account" or "address", for the message shown


@dataclass(frozen=True)
class Attempt:
    """The slots one login attempt holds until it is known to have succeeded."""

    account_slot: str
    address_slot: str
    account: str


def _base(kind: str, ident: str) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def slot_keys(kind: str, ident: str) -> list[str]:
    """The cache keys of every slot of one account (`kind="account"`) or address (`"address"`)."""
    limit = _limit(kind)
    base = _base(kind, ident)
    return [f"{base}:{n}" for n in range(limit)]


def _limit(kind: str) -> int:
    if kind == "account":
        return settings.LOGIN_MAX_FAILURES_PER_ACCOUNT
    return settings.LOGIN_MAX_FAILURES_PER_ADDRESS


def _claim(kind: str, ident: str) -> str:
    """Take a free slot and return its key; LoginLocked when all are taken."""
    window = settings.LOGIN_FAILURE_WINDOW
    keys = slot_keys(kind, ident)
    taken = cache.get_many(keys)
    now = time.time()
    for key in keys:
        # Another attempt may take a slot between get_many and add: add then fails and we go on.
        if key not in taken and cache.add(key, now, timeout=window):
            return key
    taken = cache.get_many(keys)
    if len(taken) < len(keys):  # a slot expired meanwhile; rare, so simply try once more
        for key in keys:
            if key not in taken and cache.add(key, now, timeout=window):
                return key
    oldest = min(taken.values(), default=now)
    wait = max(1, math.ceil(oldest + window - now))
    raise LoginLocked(wait, scope=kind)


def attempt_begin(*, account: str, address: str) -> Attempt:
    """Charge one failure to the account and the address up front; LoginLocked if either is full."""
    account_slot = _claim("account", account)
    try:
        address_slot = _claim("address", address)
    except LoginLocked:
        cache.delete(account_slot)
        raise
    return Attempt(account_slot=account_slot, address_slot=address_slot, account=account)


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: the account's failures are forgotten and the address is not charged."""
    cache.delete_many([*slot_keys("account", attempt.account), attempt.address_slot])


def failures(kind: str, ident: str) -> int:
    """How many failures are counted now for an account or address (for the admin and tests)."""
    return len(cache.get_many(slot_keys(kind, ident)))
