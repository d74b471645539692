"""Password reset through a real SMTP server: the same answer for every address, a one-hour single-use link,
and every session ended when the new password is set."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session

from accounts.models import User
from tests.accounts.helpers import is_logged_in, login
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase 42"
SENT = "If an account uses that address, we sent it a link"


@pytest.fixture
def verified_alice(alice):
    User.objects.filter(pk=alice.pk).update(email_verified=True)
    alice.refresh_from_db()
    return alice


def _ask(client, email: str, address: str = "10.0.0.1"):
    return client.post("/accounts/password-reset/", {"email": email}, REMOTE_ADDR=address)


def _reset_link(mailbox, address: str) -> str:
    (message,) = mailbox.to(address)
    (link,) = [link for link in mailbox.links(message) if "/accounts/password-reset/" in link]
    return link.removeprefix("http://testserver")


def test_the_form_is_linked_from_log_in(client, db):
    assert 'href="/accounts/password-reset/"' in client.get("/accounts/login/").content.decode()
    page = client.get("/accounts/password-reset/")
    assert page.status_code == 200
    assert 'name="email"' in page.content.decode()


def test_a_known_address_gets_a_link_by_smtp_with_text_and_html(client, verified_alice, mailbox):
    response = _ask(client, "ALICE@example.com")
    assert response.status_code == 200
    assert SENT in response.content.decode()
    (message,) = mailbox.messages
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Reset your Chatsite password"
    assert "/accounts/password-reset/" in mailbox.text(message)
    assert '<a href="http://testserver/accounts/password-reset/' in mailbox.html(message)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, verified_alice, mailbox):
    known = _ask(client, "alice@example.com")
    unknown = _ask(client, "nobody@example.com")
    assert unknown.status_code == known.status_code == 200
    body = lambda response: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())  # noqa: E731
    assert body(unknown) == body(known)
    assert [m["To"] for m in mailbox.messages] == ["alice@example.com"]


def test_the_request_runs_the_same_code_whether_or_not_the_address_exists(client, verified_alice, database_tasks):
    """Timing: the request only queues a job with the address; the worker looks the account up."""
    from django_tasks_db.models import DBTaskResult

    _ask(client, "alice@example.com")
    _ask(client, "nobody@example.com")
    jobs = list(DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", "args_kwargs"))
    assert jobs == [
        ("accounts.tasks.password_reset_mail", {"args": [], "kwargs": {"email": "alice@example.com"}}),
        ("accounts.tasks.password_reset_mail", {"args": [], "kwargs": {"email": "nobody@example.com"}}),
    ]


def test_an_unverified_address_gets_no_link_unless_verification_is_off(client, alice, mailbox, settings):
    _ask(client, "alice@example.com")
    assert mailbox.messages == []
    settings.EMAIL_VERIFICATION = "off"
    _ask(client, "alice@example.com", address="10.0.0.2")
    assert len(mailbox.to("alice@example.com")) == 1


def test_a_deactivated_account_gets_no_link(client, verified_alice, mailbox):
    User.objects.filter(pk=verified_alice.pk).update(is_active=False)
    _ask(client, "alice@example.com")
    assert mailbox.messages == []


def test_bad_input_is_a_form_error(client, db, mailbox):
    response = _ask(client, "not an address")
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert mailbox.messages == []


def test_the_link_sets_a_new_password_once(client, verified_alice, mailbox):
    _ask(client, "alice@example.com")
    link = _reset_link(mailbox, "alice@example.com")
    page = client.get(link)
    assert page.status_code == 200
    assert 'name="new_password1"' in page.content.decode()
    response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    verified_alice.refresh_from_db()
    assert verified_alice.check_password(NEW_PASSWORD)

    again = client.post(link, {"new_password1": "yet another passphrase", "new_password2": "yet another passphrase"})
    assert again.status_code == 400
    assert "expired or was already used" in again.content.decode()
    verified_alice.refresh_from_db()
    assert verified_alice.check_password(NEW_PASSWORD)


def test_the_link_expires_after_an_hour(client, verified_alice, mailbox, settings):
    """The token in the mailed link, checked as the view checks it, an hour and a moment later."""
    from datetime import datetime

    from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator

    class AnHourLater(PasswordResetTokenGenerator):
        def _now(self):
            return datetime.now() + timedelta(hours=1, seconds=5)

    _ask(client, "alice@example.com")
    token = _reset_link(mailbox, "alice@example.com").rstrip("/").rsplit("/", 1)[1]
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    assert default_token_generator.check_token(verified_alice, token)
    assert not AnHourLater().check_token(verified_alice, token)


def test_a_forged_or_garbled_link_is_refused(client, verified_alice):
    for link in ("/accounts/password-reset/MQ/garbage-token/", "/accounts/password-reset/%%%/x-y/"):
        response = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code in (400, 404)
    verified_alice.refresh_from_db()
    assert verified_alice.check_password(PASSWORD)


def test_a_weak_new_password_is_refused_and_the_link_still_works(client, verified_alice, mailbox):
    _ask(client, "alice@example.com")
    link = _reset_link(mailbox, "alice@example.com")
    response = client.post(link, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 400
    verified_alice.refresh_from_db()
    assert verified_alice.check_password(PASSWORD)
    assert client.get(link).status_code == 200


def test_setting_the_password_ends_every_session(client, django_user_model, verified_alice, mailbox):
    from django.test import Client

    phone, laptop = Client(), Client()
    assert login(phone, "alice").status_code == 302
    assert login(laptop, "alice").status_code == 302
    assert Session.objects.filter(activity__user=verified_alice).count() == 2

    _ask(client, "alice@example.com")
    link = _reset_link(mailbox, "alice@example.com")
    client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not is_logged_in(phone)
    assert not is_logged_in(laptop)
    assert Session.objects.filter(activity__user=verified_alice).count() == 0
    assert login(Client(), "alice", NEW_PASSWORD).status_code == 302


def test_requests_are_throttled_per_email_and_per_client_address(client, verified_alice, mailbox, settings):
    settings.PASSWORD_RESET_MAX_PER_EMAIL = 2
    settings.PASSWORD_RESET_MAX_PER_ADDRESS = 3
    assert _ask(client, "alice@example.com", "10.0.0.1").status_code == 200
    assert _ask(client, "alice@example.com", "10.0.0.2").status_code == 200
    refused = _ask(client, "alice@example.com", "10.0.0.3")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert len(mailbox.to("alice@example.com")) == 2  # nothing more was sent

    # Per client address, whatever the address asked for.
    assert _ask(client, "x1@example.com", "10.0.0.9").status_code == 200
    assert _ask(client, "x2@example.com", "10.0.0.9").status_code == 200
    assert _ask(client, "x3@example.com", "10.0.0.9").status_code == 200
    assert _ask(client, "x4@example.com", "10.0.0.9").status_code == 429
