import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import User
from tests.accounts.helpers import is_logged_in, login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def test_logout_by_get_is_refused(client, alice):
    login(client, "alice")
    response = client.get("/accounts/logout/")
    assert response.status_code == 405
    assert is_logged_in(client)


def test_logout_by_post_ends_the_session_server_side(client, alice):
    login(client, "alice")
    key = client.cookies["sessionid"].value
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not Session.objects.filter(session_key=key).exists()
    # The old cookie is worth nothing even if it was copied before logging out.
    replay = Client()
    replay.cookies["sessionid"] = key
    assert not is_logged_in(replay)
    assert not is_logged_in(client)


def test_logout_needs_the_csrf_token():
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/logout/").status_code == 403


def test_settings_needs_login(client):
    response = client.get("/accounts/settings/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/settings/"


def test_settings_page_shows_every_section(alice_client):
    body = alice_client.get("/accounts/settings/").content.decode()
    for text in ('name="display_name"', 'name="email"', 'name="old_password"', 'name="new_password1"'):
        assert text in body
    assert 'href="/accounts/settings/export/"' in body
    assert 'action="/accounts/settings/delete/"' in body and 'name="delete_messages"' in body


def test_profile_change_saves_the_display_name_and_asks_the_new_address_to_confirm(alice_client, alice):
    response = alice_client.post(
        "/accounts/settings/", {"action": "profile", "display_name": "  Alice Liddell ", "email": "al@Example.ORG"}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/settings/"
    alice.refresh_from_db()
    assert alice.display_name == "Alice Liddell"
    assert alice.email == "alice@example.com"  # until the link mailed to the new address is opened
    assert "We sent a confirmation to al@example.org" in alice_client.get("/accounts/settings/").content.decode()


def test_display_name_may_be_cleared(alice_client, alice):
    alice_client.post("/accounts/settings/", {"action": "profile", "display_name": "", "email": alice.email})
    alice.refresh_from_db()
    assert alice.display_name == "" and alice.name == "alice"


def test_asking_for_a_taken_email_answers_as_for_a_free_one_and_changes_nothing(alice_client, alice, bob):
    taken = alice_client.post(
        "/accounts/settings/", {"action": "profile", "display_name": "A", "email": "BOB@example.com"}
    )
    assert taken.status_code == 302
    assert "We sent a confirmation to BOB@example.com" in alice_client.get("/accounts/settings/").content.decode()
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.email == "alice@example.com" and bob.email == "bob@example.com"


def test_profile_may_keep_its_own_email_in_another_case(alice_client, alice):
    response = alice_client.post(
        "/accounts/settings/", {"action": "profile", "display_name": "A", "email": "ALICE@example.com"}
    )
    assert response.status_code == 302


def test_profile_refuses_a_bad_email(alice_client, alice):
    response = alice_client.post("/accounts/settings/", {"action": "profile", "display_name": "A", "email": "nope"})
    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_password_change_keeps_this_session_and_ends_the_others(alice):
    here, elsewhere = Client(), Client()
    login(here, "alice")
    login(elsewhere, "alice", remember_me="on")
    assert is_logged_in(here) and is_logged_in(elsewhere)
    key_before = here.cookies["sessionid"].value

    response = here.post(
        "/accounts/settings/",
        {"action": "password", "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302

    assert is_logged_in(here)
    assert here.cookies["sessionid"].value != key_before  # the key rotates with the new password
    assert not is_logged_in(elsewhere)
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD) and alice.password.startswith("argon2")
    assert login(Client(), "alice", PASSWORD).status_code == 400
    assert login(Client(), "alice", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("old", "new1", "new2", "field"),
    [
        ("wrong old password", NEW_PASSWORD, NEW_PASSWORD, "old_password"),
        (PASSWORD, "short1!", "short1!", "new_password2"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "new_password2"),
        (PASSWORD, "x" * 129, "x" * 129, "new_password1"),
    ],
)
def test_password_change_refusals(alice_client, alice, old, new1, new2, field):
    response = alice_client.post(
        "/accounts/settings/", {"action": "password", "old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 400
    assert response.context["password_form"].errors[field]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert is_logged_in(alice_client)


def test_unknown_settings_action_changes_nothing(alice_client, alice):
    response = alice_client.post("/accounts/settings/", {"action": "bogus", "email": "x@example.com"})
    assert response.status_code == 400
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_time_zone_is_saved_shown_selected_and_may_be_cleared(alice_client, alice):
    page = alice_client.get("/accounts/settings/").content.decode()
    assert 'name="time_zone"' in page and "data-browser-time-zone" in page
    assert '<option value="" selected>Not set</option>' in page  # empty by default
    data = {"action": "profile", "display_name": alice.display_name, "email": alice.email}
    assert alice_client.post("/accounts/settings/", {**data, "time_zone": "Europe/Paris"}).status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/Paris"
    assert '<option value="Europe/Paris" selected>' in alice_client.get("/accounts/settings/").content.decode()
    assert alice_client.post("/accounts/settings/", {**data, "time_zone": ""}).status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == ""


def test_an_unknown_time_zone_is_a_form_error_and_changes_nothing(alice_client, alice):
    data = {"action": "profile", "display_name": "Changed", "email": alice.email, "time_zone": "Mars/Olympus"}
    response = alice_client.post("/accounts/settings/", data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    alice.refresh_from_db()
    assert (alice.display_name, alice.time_zone) == ("Alice A.", "")
