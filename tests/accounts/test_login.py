import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import GENERIC_LOGIN_ERROR, is_logged_in, login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_has_the_three_fields(client):
    body = client.get("/accounts/login/").content.decode()
    for name in ("username", "password", "remember_me"):
        assert f'name="{name}"' in body


@pytest.mark.parametrize("identifier", ["alice", "ALICE", "alice@example.com", "Alice@EXAMPLE.com", "  alice  "])
def test_login_by_username_or_email_in_any_case(client, alice, identifier):
    response = login(client, identifier)
    assert response.status_code == 302
    assert response["Location"] == "/chats/"
    assert is_logged_in(client)
    assert int(client.session["_auth_user_id"]) == alice.pk


def test_wrong_password_and_unknown_user_get_the_same_generic_error(client, alice):
    wrong = login(client, "alice", "not the password at all")
    unknown = login(client, "nobody-here", "not the password at all")
    unknown_email = login(client, "nobody@example.com", PASSWORD)
    for response in (wrong, unknown, unknown_email):
        assert response.status_code == 400
        body = response.content.decode()
        assert body.count(GENERIC_LOGIN_ERROR) == 1
        assert "does not exist" not in body and "no account" not in body.lower()
        assert response.context["form"].non_field_errors() == [GENERIC_LOGIN_ERROR]
        assert not response.context["form"].errors.get("username")
    assert not is_logged_in(client)


def test_inactive_user_cannot_log_in(client, alice):
    alice.is_active = False
    alice.save()
    response = login(client, "alice")
    assert response.status_code == 400
    assert GENERIC_LOGIN_ERROR in response.content.decode()


def test_empty_fields_are_form_errors(client):
    response = client.post("/accounts/login/", {"username": "", "password": ""})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"username", "password"}


def test_without_remember_me_the_cookie_ends_with_the_browser(client, alice):
    response = login(client, "alice")
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""


def test_remember_me_keeps_the_session_two_weeks(client, alice):
    response = login(client, "alice", remember_me="on")
    cookie = response.cookies["sessionid"]
    assert int(cookie["max-age"]) == 14 * 24 * 60 * 60 == settings.SESSION_COOKIE_AGE
    assert cookie["expires"] != ""
    assert client.session.get_expiry_age() == 14 * 24 * 60 * 60


def test_session_key_rotates_on_login(client, alice):
    planted = client.session  # a session that exists before logging in, as an attacker could plant
    planted["seen"] = True
    planted.save()
    old_key = planted.session_key

    assert login(client, "alice").status_code == 302
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()

    attacker = Client()
    attacker.cookies["sessionid"] = old_key
    assert not is_logged_in(attacker)


@pytest.mark.parametrize("target", ["/groups/new/", "/chats/?c=5", "/accounts/settings/"])
def test_safe_next_is_honoured(client, alice, target):
    response = login(client, "alice", next=target)
    assert response["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "//evil.example/chats/",
        "http://evil.example/chats/",
        "javascript:alert(1)",
        "/\\evil.example",
        "https://testserver.evil.example/",
    ],
)
def test_unsafe_next_is_ignored(client, alice, target):
    response = login(client, "alice", next=target)
    assert response.status_code == 302
    assert response["Location"] == "/chats/"


def test_unsafe_next_is_not_put_into_the_page(client):
    body = client.get("/accounts/login/", {"next": "https://evil.example/"}).content.decode()
    assert "evil.example" not in body
    body = client.get("/accounts/login/", {"next": "/groups/new/"}).content.decode()
    assert 'name="next" value="/groups/new/"' in body


def test_next_from_the_query_string_survives_the_login_redirect(client, alice):
    response = client.get("/chats/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/chats/"
    response = client.post("/accounts/login/?next=/groups/new/", {"username": "alice", "password": PASSWORD})
    assert response["Location"] == "/groups/new/"


def test_old_pbkdf2_hash_is_upgraded_to_argon2_on_login(client, alice):
    User.objects.filter(pk=alice.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    alice.refresh_from_db()
    assert alice.password.startswith("pbkdf2_sha256$")

    assert login(client, "alice").status_code == 302

    alice.refresh_from_db()
    assert alice.password.startswith("argon2$")
    assert alice.check_password(PASSWORD)
    client.post("/accounts/logout/")
    assert login(client, "alice@example.com").status_code == 302


def test_argon2_is_the_first_hasher():
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
