"""Sliding-window password throttling: per (account, client address), per address, per account.

Three counters, each charged by every failed password check (the log-in page,
the settings page's old password, the delete-account password):
- `pair`: one account from one address, `LOGIN_MAX_FAILURES_PER_ACCOUNT` (5).
  It is what stops a guesser, and it is per address so that a stranger who
  knows a username cannot lock its owner out: the owner's own address has its
  own count.
- `address`: one address across all accounts, `LOGIN_MAX_FAILURES_PER_ADDRESS` (50).
- `account`: one account across all addresses, `LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL`
  (100), against guessing spread over many addresses.

Each failure occupies one of `limit` slots, a cache key that lives exactly one
window (`LOGIN_FAILURE_WINDOW`) and holds the failure's timestamp. An attempt
first *claims* a free slot with `cache.add` (atomic: SET NX on Redis, a lock in
the local-memory cache), then checks the password. So concurrent guesses, in one
process or many sharing Redis, can never get more than `limit` checks through:
when every slot is taken the attempt is refused, and it is refused before the
password is looked at, so the right password does not help either. A slot
expiring is the window sliding past that failure. A success gives its slots
back: the (account, address) count starts again, and neither the address nor
the account is charged for it.

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
    """Too many recent failures for this account (from this address, or from all) or from this address."""

    detail = "Too many failed log-in attempts. Wait a while and try again."

    def __init__(self, retry_after: int, *, scope: str):
        super().__init__()
        self.retry_after = retry_after
        self.scope = scope  # "pair", "account" or "address", for the message shown


@dataclass(frozen=True)
class Attempt:
    """The slots one login attempt holds until it is known to have succeeded."""

    pair_slot: str
    account_slot: str
    address_slot: str
    pair: str


def _base(kind: str, ident: str) -> str:
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def pair_ident(account: str, address: str) -> str:
    """The identity of one account tried from one address (the `pair` counter)."""
    return f"{account}|{address}"


def slot_keys(kind: str, ident: str) -> list[str]:
    """The cache keys of every slot of a `pair` (see `pair_ident`), an `account` or an `address`."""
    limit = _limit(kind)
    base = _base(kind, ident)
    return [f"{base}:{n}" for n in range(limit)]


def _limit(kind: str) -> int:
    if kind == "pair":
        return settings.LOGIN_MAX_FAILURES_PER_ACCOUNT
    if kind == "account":
        return settings.LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL
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
    """Charge one failure to the pair, the account and the address up front; LoginLocked if any is full."""
    claimed: list[str] = []
    try:
        for kind, ident in (("pair", pair_ident(account, address)), ("account", account), ("address", address)):
            claimed.append(_claim(kind, ident))
    except LoginLocked:
        cache.delete_many(claimed)
        raise
    pair_slot, account_slot, address_slot = claimed
    return Attempt(
        pair_slot=pair_slot, account_slot=account_slot, address_slot=address_slot, pair=pair_ident(account, address)
    )


def attempt_succeeded(attempt: Attempt) -> None:
    """The password was right: this pair's failures are forgotten, the account and address are not charged."""
    cache.delete_many([*slot_keys("pair", attempt.pair), attempt.account_slot, attempt.address_slot])


def failures(kind: str, ident: str) -> int:
    """How many failures are counted now for a pair, an account or an address (for the admin and tests)."""
    return len(cache.get_many(slot_keys(kind, ident)))
