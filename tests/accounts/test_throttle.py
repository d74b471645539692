"""Brute-force protection, through the log-in page and the real cache (Redis when REDIS_URL is set)."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from accounts import throttle
from accounts.models import User
from accounts.selectors import login_account_key
from tests.accounts.helpers import GENERIC_LOGIN_ERROR, is_logged_in, login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "definitely the wrong password"
LOCKED_TEXT = "Too many failed log-in attempts"


def fail(client, identifier: str, times: int, **kwargs) -> None:
    for _ in range(times):
        response = login(client, identifier, WRONG, **kwargs)
        assert response.status_code == 400
        assert GENERIC_LOGIN_ERROR in response.content.decode()


def assert_locked(response) -> None:
    assert response.status_code == 429
    body = response.content.decode()
    assert LOCKED_TEXT in body
    assert "Try again in about 15 minutes" in body
    assert 0 < int(response["Retry-After"]) <= 15 * 60


def test_sixth_attempt_is_refused_with_429_even_with_the_right_password(client, alice):
    fail(client, "alice", 5)
    response = login(client, "alice")
    assert_locked(response)
    assert not is_logged_in(client)
    # Later attempts stay refused, and refusals do not extend the lock (still 5 failures counted).
    assert_locked(login(client, "alice", WRONG))
    assert throttle.failures("account", f"user:{alice.pk}") == 5


def test_username_and_email_count_as_the_same_account(client, alice):
    fail(client, "alice", 2)
    fail(client, "ALICE@example.com", 2)
    fail(client, "Alice", 1)
    assert_locked(login(client, "alice@EXAMPLE.com"))
    assert_locked(login(client, "alice"))


def test_the_lock_is_per_account(client, alice, bob):
    fail(client, "alice", 5)
    assert_locked(login(client, "alice"))
    assert login(client, "bob").status_code == 302


def test_a_success_before_the_limit_resets_the_count(client, alice):
    fail(client, "alice", 4)
    assert login(client, "alice").status_code == 302
    client.post("/accounts/logout/")
    fail(client, "alice", 5)  # five more failures are allowed again: the count started over
    assert_locked(login(client, "alice"))


def test_unknown_names_are_throttled_like_real_accounts(client):
    fail(client, "nobody", 5)
    assert_locked(login(client, "NOBODY", WRONG))


def test_window_passing_lets_the_account_in_again(client, alice, settings):
    """A one-second window; the failures are recorded through the throttle itself, then it slides past."""
    settings.LOGIN_FAILURE_WINDOW = 1
    account = login_account_key("alice")
    for _ in range(5):
        throttle.attempt_begin(account=account, address="127.0.0.1")
    response = login(client, "alice")
    assert response.status_code == 429
    time.sleep(1.6)
    assert login(client, "alice").status_code == 302
    assert is_logged_in(client)


def test_the_oldest_failure_ageing_out_frees_one_attempt(client, alice):
    """Sliding, not fixed: when the oldest failure leaves the window, exactly one more attempt is allowed."""
    fail(client, "alice", 5)
    assert_locked(login(client, "alice"))
    slots = throttle.slot_keys("pair", throttle.pair_ident(f"user:{alice.pk}", "127.0.0.1"))
    stored = cache.get_many(slots)
    oldest = min(stored, key=stored.get)
    cache.delete(oldest)  # what the cache's expiry does once the window has passed that failure
    fail(client, "alice", 1)
    assert_locked(login(client, "alice"))


def test_one_address_gets_at_most_50_failures_across_accounts(client, make_user, fast_hashing):
    victim = make_user("victim")
    address = "203.0.113.9"
    for n in range(50):  # 50 different names: the per-account limit is never reached
        fail(client, f"probe{n}", 1, address=address)
    response = login(client, victim.username, address=address)
    assert response.status_code == 429
    assert "from your network" in response.content.decode()
    assert not is_logged_in(client)
    # Another address is not affected, and the victim's own account was never charged.
    assert login(client, victim.username, address="203.0.113.10").status_code == 302
    assert throttle.failures("account", f"user:{victim.pk}") == 0


def test_successful_logins_do_not_count_against_the_address(client, alice, fast_hashing, make_user):
    user = make_user("frequent")
    address = "203.0.113.20"
    for _ in range(3):
        assert login(client, "frequent", address=address).status_code == 302
        client.post("/accounts/logout/")
    assert throttle.failures("address", address) == 0
    assert throttle.failures("account", f"user:{user.pk}") == 0


def test_forwarded_for_is_ignored_unless_configured(client, alice, fast_hashing, settings):
    for n in range(50):
        client.post("/accounts/login/", {"username": f"x{n}", "password": WRONG}, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert throttle.failures("address", "127.0.0.1") == 50
    settings.USE_X_FORWARDED_FOR = True
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": WRONG}, HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.200"
    )
    assert response.status_code == 400
    assert throttle.failures("address", "192.0.2.200") == 1


def test_parallel_guesses_cannot_overshoot_the_limit(db):
    """Every attempt claims its slot atomically before the password is checked."""

    def claim(_):
        try:
            throttle.attempt_begin(account="user:424242", address="192.0.2.50")
        except throttle.LoginLocked:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(claim, range(40)))
    assert results.count(True) == 5
    assert throttle.failures("account", "user:424242") == 5
    assert throttle.failures("address", "192.0.2.50") == 5


STRANGER = "198.51.100.66"
OWNER = "203.0.113.77"
NEW_PASSWORD = "a brand new passphrase 42"


def test_a_stranger_locking_an_account_does_not_lock_its_owner_out_elsewhere(client, alice):
    """Usernames are public: failures count per (account, address), so only the guesser's address is locked."""
    fail(client, "alice", 5, address=STRANGER)
    assert_locked(login(client, "alice", address=STRANGER))
    assert "from your network" in login(client, "alice", address=STRANGER).content.decode()

    assert login(client, "alice", address=OWNER).status_code == 302
    assert is_logged_in(client)
    # The owner's success does not reset the stranger's count.
    client.post("/accounts/logout/")
    assert_locked(login(client, "alice", address=STRANGER))


def test_one_account_gets_a_capped_number_of_failures_across_all_addresses(client, alice, fast_hashing, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT_TOTAL = 12  # the default is 100; the rule is the same
    for n in range(4):  # 4 addresses x 3 failures: no single address reaches its 5
        fail(client, "alice", 3, address=f"192.0.2.{n}")
    response = login(client, "alice", address="192.0.2.200")
    assert_locked(response)
    assert "from many places" in response.content.decode()
    assert throttle.failures("account", f"user:{alice.pk}") == 12
    assert login(client, "bob-does-not-matter", WRONG, address="192.0.2.200").status_code == 400


def _change_password(client, old: str, *, address: str):
    data = {"action": "password", "old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return client.post("/accounts/settings/", data, REMOTE_ADDR=address)


def _password_unchanged(user) -> bool:
    return User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_the_settings_pages_old_password_is_throttled_per_address(alice_client, alice, client):
    for _ in range(5):
        response = _change_password(alice_client, WRONG, address=STRANGER)
        assert response.status_code == 400
        assert "Your old password was entered incorrectly" in response.content.decode()
    response = _change_password(alice_client, PASSWORD, address=STRANGER)  # even the right one
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords" in response.content.decode()
    assert _password_unchanged(alice)
    # The same session from another address is not locked; the change goes through.
    assert _change_password(alice_client, PASSWORD, address=OWNER).status_code == 302
    assert not _password_unchanged(alice)


def test_the_settings_page_shares_the_log_in_counters(alice_client, alice, client):
    """Guessing through the settings page and the log-in page together gets no more than 5 tries."""
    fail(client, "alice", 3, address=STRANGER)
    for _ in range(2):
        assert _change_password(alice_client, WRONG, address=STRANGER).status_code == 400
    assert_locked(login(client, "alice", address=STRANGER))
    assert _change_password(alice_client, PASSWORD, address=STRANGER).status_code == 429
    assert _password_unchanged(alice)


def test_the_delete_account_password_is_throttled_per_address(alice_client, alice):
    for _ in range(5):
        response = alice_client.post("/accounts/settings/delete/", {"password": WRONG}, REMOTE_ADDR=STRANGER)
        assert response.status_code == 400
    response = alice_client.post("/accounts/settings/delete/", {"password": PASSWORD}, REMOTE_ADDR=STRANGER)
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert User.objects.filter(pk=alice.pk).exists()
    response = alice_client.post("/accounts/settings/delete/", {"password": PASSWORD}, REMOTE_ADDR=OWNER)
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
