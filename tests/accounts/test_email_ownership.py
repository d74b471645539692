"""Email verification and email change, through a real SMTP server."""

import pytest
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import login
from tests.conftest import PASSWORD


def _signup(client, username: str = "newbie", email: str = "newbie@example.com"):
    data = {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    return client.post("/accounts/signup/", data)


def _only_link(mailbox, address: str, marker: str) -> str:
    (message,) = mailbox.to(address)
    (link,) = [link for link in mailbox.links(message) if marker in link]
    return link.removeprefix("http://testserver")


def test_sign_up_mails_a_verification_link_and_shows_a_banner_until_it_is_opened(client, db, mailbox):
    assert _signup(client).status_code == 302
    user = User.objects.get(username="newbie")
    assert not user.email_verified
    assert "Please verify your email address" in client.get("/chats/").content.decode()

    link = _only_link(mailbox, "newbie@example.com", "/accounts/verify-email/")
    assert client.get(link).status_code == 302
    user.refresh_from_db()
    assert user.email_verified
    assert "Please verify your email address" not in client.get("/chats/").content.decode()


def test_a_tampered_verification_link_verifies_nothing(client, db, mailbox):
    _signup(client)
    link = _only_link(mailbox, "newbie@example.com", "/accounts/verify-email/")
    response = client.get(link.rstrip("/") + "x/")
    assert response.status_code == 400
    assert not User.objects.get(username="newbie").email_verified


def test_with_verification_off_nothing_is_mailed_and_no_banner(client, db, mailbox, settings):
    settings.EMAIL_VERIFICATION = "off"
    _signup(client)
    assert mailbox.messages == []
    assert "Please verify" not in client.get("/chats/").content.decode()


def test_mandatory_verification_keeps_an_unverified_account_on_its_account_pages(client, db, mailbox, settings):
    settings.EMAIL_VERIFICATION = "mandatory"
    _signup(client)
    response = client.get("/chats/")
    assert response.status_code == 302 and response["Location"] == "/accounts/verify-email/"
    assert client.get("/accounts/settings/").status_code == 200
    client.get(_only_link(mailbox, "newbie@example.com", "/accounts/verify-email/"))
    assert client.get("/chats/").status_code == 200


def test_the_verification_link_can_be_sent_again_a_few_times(client, db, mailbox, settings):
    settings.EMAIL_VERIFY_MAX_PER_HOUR = 2
    _signup(client)
    client.post("/accounts/verify-email/")
    client.post("/accounts/verify-email/")
    client.post("/accounts/verify-email/")
    assert len(mailbox.to("newbie@example.com")) == 3  # the sign-up mail and two more


def test_changing_the_email_confirms_with_the_new_address_and_tells_the_old(alice_client, alice, mailbox):
    alice_client.post("/accounts/settings/", {"action": "profile", "display_name": "A", "email": "new@example.org"})
    (notice,) = mailbox.to("alice@example.com")
    assert "new@example.org" in mailbox.text(notice)
    link = _only_link(mailbox, "new@example.org", "/accounts/email-change/")
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"

    assert alice_client.get(link).status_code == 302
    alice.refresh_from_db()
    assert alice.email == "new@example.org" and alice.email_verified
    assert alice_client.get(link).status_code == 400  # once
    alice.refresh_from_db()
    assert alice.email == "new@example.org"


def test_a_taken_address_is_not_revealed_and_its_owner_is_told(alice_client, alice, bob, mailbox):
    response = alice_client.post(
        "/accounts/settings/", {"action": "profile", "display_name": "A", "email": "bob@example.com"}
    )
    assert response.status_code == 302
    (message,) = mailbox.messages
    assert message["To"] == "bob@example.com"
    assert "already uses" in mailbox.text(message)
    assert "/accounts/email-change/" not in mailbox.text(message)
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_confirmation_is_refused_when_the_address_was_taken_meanwhile(alice_client, alice, make_user, mailbox):
    alice_client.post("/accounts/settings/", {"action": "profile", "display_name": "A", "email": "new@example.org"})
    link = _only_link(mailbox, "new@example.org", "/accounts/email-change/")
    make_user("sneaky", email="NEW@example.org")
    assert alice_client.get(link).status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


@pytest.mark.parametrize("mode", ["optional", "mandatory"])
def test_password_reset_reaches_a_freshly_verified_address(client, db, mailbox, settings, mode):
    settings.EMAIL_VERIFICATION = mode
    _signup(client)
    client.get(_only_link(mailbox, "newbie@example.com", "/accounts/verify-email/"))
    Client().post("/accounts/password-reset/", {"email": "newbie@example.com"})
    assert len(mailbox.to("newbie@example.com")) == 2


def test_sign_up_is_throttled_per_client_address(client, db, settings):
    settings.SIGNUP_MAX_PER_ADDRESS = 2
    assert _signup(client, "one", "one@example.com").status_code == 302
    other = Client()
    assert _signup(other, "one", "two@example.com").status_code == 400  # taken username: still counted
    assert _signup(Client(), "three", "three@example.com").status_code == 429
    assert not User.objects.filter(username="three").exists()
    assert login(Client(), "one").status_code == 302
