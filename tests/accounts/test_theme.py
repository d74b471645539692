"""The theme setting: light, dark or follow the system, chosen with a plain form and put on <html> by the server."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def html_tag(response) -> str:
    return response.content.decode().split("<head>", 1)[0]


def test_the_theme_follows_the_system_until_chosen_and_is_on_every_page(alice_client, alice):
    assert alice.theme == "system"
    assert 'data-theme="system"' in html_tag(alice_client.get("/accounts/settings/"))
    page = alice_client.get("/accounts/settings/").content.decode()
    assert '<input type="radio" name="theme" value="system" id="id_theme_system" checked>' in page

    response = alice_client.post("/accounts/settings/", {"action": "theme", "theme": "dark"})
    assert response.status_code == 302 and response["Location"] == "/accounts/settings/"
    assert User.objects.get(pk=alice.pk).theme == "dark"
    assert "Theme saved." in alice_client.get("/accounts/settings/").content.decode()
    for path in ("/chats/", "/accounts/settings/", "/people/"):
        assert '<html lang="en" data-theme="dark">' in html_tag(alice_client.get(path)), path


def test_an_unknown_theme_is_refused_and_nothing_changes(alice_client, alice):
    for value in ("purple", "", "DARK"):
        response = alice_client.post("/accounts/settings/", {"action": "theme", "theme": value})
        assert response.status_code == 400
        assert "Choose light, dark or follow the system." in response.content.decode()
    assert User.objects.get(pk=alice.pk).theme == "system"


def test_the_theme_needs_a_login_and_pages_without_one_follow_the_system(client, alice):
    response = client.post("/accounts/settings/", {"action": "theme", "theme": "dark"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert User.objects.get(pk=alice.pk).theme == "system"
    assert 'data-theme="system"' in html_tag(client.get("/accounts/login/"))
