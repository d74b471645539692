"""Two-factor: enrol with a QR code and a first code, log in with a code or a recovery code,
remember a device for 30 days, codes throttled like passwords, owners see who has it on."""

import re

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from accounts import two_factor
from accounts.models import RecoveryCode, TOTPDevice
from groups import services as group_services
from tests.accounts.helpers import is_logged_in, login
from tests.conftest import PASSWORD


def _enrol(client) -> tuple[str, list[str]]:
    """Turn two-factor on through the settings page; returns the secret and the recovery codes."""
    page = client.get("/accounts/settings/two-factor/").content.decode()
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    response = client.post("/accounts/settings/two-factor/", {"action": "enable", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", response.content.decode())
    return secret, codes


def _code_for_next_step(secret: str) -> str:
    """A code for the next 30-second step (accepted for clock drift), so it is not the one just used."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(timezone.now()) + 1)


@pytest.fixture
def enrolled(alice):
    client = Client()
    client.force_login(alice)
    secret, codes = _enrol(client)
    return secret, codes


def test_enrolment_shows_a_qr_code_drawn_server_side_and_needs_a_right_code(alice_client, alice):
    page = alice_client.get("/accounts/settings/two-factor/").content.decode()
    assert re.search(r'<img class="qr-code" src="data:image/svg\+xml;', page)
    assert "<script" not in page.split("<main", 1)[1]
    wrong = alice_client.post("/accounts/settings/two-factor/", {"action": "enable", "code": "000000"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.exists()

    secret, codes = _enrol(alice_client)
    assert TOTPDevice.objects.get(user=alice).secret == secret
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=alice).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    assert "Status: <strong>on</strong>" in alice_client.get("/accounts/settings/two-factor/").content.decode()


def test_login_asks_for_the_code_after_the_password(alice, enrolled):
    secret, _ = enrolled
    client = Client()
    response = login(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/two-factor/"
    assert not is_logged_in(client)
    response = client.post("/accounts/login/two-factor/", {"code": _code_for_next_step(secret)})
    assert response.status_code == 302
    assert response["Location"] == "/chats/"
    assert is_logged_in(client)


def test_a_wrong_or_reused_code_is_refused(alice, enrolled):
    secret, _ = enrolled
    client = Client()
    login(client, "alice")
    assert client.post("/accounts/login/two-factor/", {"code": "123456"}).status_code == 400
    code = _code_for_next_step(secret)
    assert client.post("/accounts/login/two-factor/", {"code": code}).status_code == 302

    again = Client()
    login(again, "alice")
    assert again.post("/accounts/login/two-factor/", {"code": code}).status_code == 400  # a code works once
    assert not is_logged_in(again)


def test_the_code_step_without_a_password_first_goes_back_to_log_in(alice, enrolled, client):
    secret, _ = enrolled
    response = client.post("/accounts/login/two-factor/", {"code": _code_for_next_step(secret)})
    assert response["Location"] == "/accounts/login/"
    assert not is_logged_in(client)


def test_a_recovery_code_works_once(alice, enrolled):
    _, codes = enrolled
    first = Client()
    login(first, "alice")
    assert first.post("/accounts/login/two-factor/", {"code": codes[0].upper()}).status_code == 302
    assert is_logged_in(first)
    second = Client()
    login(second, "alice")
    assert second.post("/accounts/login/two-factor/", {"code": codes[0]}).status_code == 400
    assert second.post("/accounts/login/two-factor/", {"code": codes[1]}).status_code == 302
    assert RecoveryCode.objects.filter(user=alice, used_at__isnull=False).count() == 2


def test_remember_this_device_skips_the_code_for_30_days(alice, enrolled, settings):
    secret, _ = enrolled
    client = Client()
    login(client, "alice")
    response = client.post(
        "/accounts/login/two-factor/", {"code": _code_for_next_step(secret), "remember_device": "on"}
    )
    cookie = response.cookies[two_factor.REMEMBER_COOKIE]
    assert cookie["max-age"] == 30 * 24 * 3600 and cookie["httponly"]
    client.post("/accounts/logout/")
    assert login(client, "alice")["Location"] == "/chats/"  # no code asked on this browser
    assert login(Client(), "alice")["Location"] == "/accounts/login/two-factor/"  # another one is asked

    settings.TWO_FACTOR_REMEMBER_DAYS = 0  # the cookie has aged past its limit
    client.post("/accounts/logout/")
    assert login(client, "alice")["Location"] == "/accounts/login/two-factor/"


def test_codes_are_throttled_like_passwords(alice, enrolled, settings):
    secret, _ = enrolled
    client = Client()
    login(client, "alice")
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        assert client.post("/accounts/login/two-factor/", {"code": "000000"}).status_code == 400
    locked = client.post("/accounts/login/two-factor/", {"code": _code_for_next_step(secret)})
    assert locked.status_code == 429
    assert not is_logged_in(client)


def test_turning_off_needs_the_password(alice_client, alice, enrolled):
    assert (
        alice_client.post("/accounts/settings/two-factor/", {"action": "disable", "password": "wrong"}).status_code
        == 400
    )
    assert TOTPDevice.objects.filter(user=alice).exists()
    response = alice_client.post("/accounts/settings/two-factor/", {"action": "disable", "password": PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.filter(user=alice).exists()
    assert login(Client(), "alice")["Location"] == "/chats/"


def test_new_recovery_codes_replace_the_old_ones(alice_client, alice, enrolled):
    _, old = enrolled
    response = alice_client.post(
        "/accounts/settings/two-factor/", {"action": "recovery_codes", "codes-password": PASSWORD}
    )
    new = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    client = Client()
    login(client, "alice")
    assert client.post("/accounts/login/two-factor/", {"code": old[0]}).status_code == 400
    assert client.post("/accounts/login/two-factor/", {"code": new[0]}).status_code == 302


def test_the_group_owner_sees_which_members_have_two_factor(alice, bob, enrolled):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    owner, member = Client(), Client()
    owner.force_login(alice)
    member.force_login(bob)
    page = owner.get(f"/groups/{group.pk}/").content.decode()
    flags = re.findall(r'@(\w+)</span>.*?data-two-factor="(on|off)"', page, re.S)
    assert flags == [("alice", "on"), ("bob", "off")]
    assert "data-two-factor" not in member.get(f"/groups/{group.pk}/").content.decode()


def test_the_password_prompts_are_throttled_like_the_login_page(alice_client, alice, enrolled, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        response = alice_client.post("/accounts/settings/two-factor/", {"action": "disable", "password": "wrong"})
        assert response.status_code == 400
    locked = alice_client.post("/accounts/settings/two-factor/", {"action": "disable", "password": PASSWORD})
    assert locked.status_code == 429
    assert TOTPDevice.objects.filter(user=alice).exists()
