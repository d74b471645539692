"""Settings lists the account's sessions; logging one out (or all others) ends it and closes its sockets."""

import re

from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import UserSession
from tests.accounts.helpers import is_logged_in, login

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _device(user_agent: str, address: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    assert login(client, "alice", address=address).status_code == 302
    return client


def _session_ids(page: str) -> list[str]:
    return re.findall(r'data-session="([^"]+)"', page)


def test_settings_lists_each_session_with_device_address_and_the_current_one_marked(alice):
    laptop = _device(FIREFOX, "192.0.2.10")
    _device(IPHONE, "198.51.100.7")
    page = laptop.get("/accounts/settings/").content.decode()
    assert "Firefox on Windows" in page
    assert "Safari on iPhone" in page
    assert "192.0.2.10" in page and "198.51.100.7" in page
    assert page.count("This device") == 1
    assert page.index("Firefox on Windows") < page.index("This device") < page.index("Safari on iPhone")
    assert len(_session_ids(page)) == 2
    # The page names sessions by an id of its own, never by the key that works as a cookie.
    for key in Session.objects.values_list("session_key", flat=True):
        assert key not in page


def test_someone_elses_sessions_are_not_listed(alice, bob):
    laptop = _device(FIREFOX, "192.0.2.10")
    other = Client()
    assert login(other, "bob").status_code == 302
    page = laptop.get("/accounts/settings/").content.decode()
    assert len(_session_ids(page)) == 1


def test_last_seen_is_written_at_most_once_a_minute(alice, settings, django_assert_num_queries):
    laptop = _device(FIREFOX, "192.0.2.10")
    row = UserSession.objects.get()
    first = row.last_seen
    laptop.get("/accounts/settings/")
    row.refresh_from_db()
    assert row.last_seen == first  # within the minute: no write

    settings.SESSION_ACTIVITY_INTERVAL = 0
    laptop.get("/accounts/settings/", REMOTE_ADDR="192.0.2.99")
    row.refresh_from_db()
    assert row.last_seen > first
    assert row.address == "192.0.2.99"


def test_log_out_one_other_session(alice):
    laptop = _device(FIREFOX, "192.0.2.10")
    phone = _device(IPHONE, "198.51.100.7")
    page = laptop.get("/accounts/settings/").content.decode()
    phone_id = _session_ids(page)[1]

    response = laptop.post(f"/accounts/settings/sessions/{phone_id}/logout/")
    assert response.status_code == 302
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)
    assert len(_session_ids(laptop.get("/accounts/settings/").content.decode())) == 1


def test_log_out_this_session_from_the_list(alice):
    laptop = _device(FIREFOX, "192.0.2.10")
    own_id = _session_ids(laptop.get("/accounts/settings/").content.decode())[0]
    response = laptop.post(f"/accounts/settings/sessions/{own_id}/logout/")
    assert response["Location"] == "/accounts/login/"
    assert not is_logged_in(laptop)


def test_log_out_all_others(alice):
    laptop = _device(FIREFOX, "192.0.2.10")
    phone, tablet = _device(IPHONE, "198.51.100.7"), _device(IPHONE, "198.51.100.8")
    response = laptop.post("/accounts/settings/sessions/logout-others/")
    assert response.status_code == 302
    assert is_logged_in(laptop)
    assert not is_logged_in(phone) and not is_logged_in(tablet)


def test_an_unknown_or_someone_elses_session_id_is_404_and_ends_nothing(alice, bob):
    laptop = _device(FIREFOX, "192.0.2.10")
    other = Client()
    assert login(other, "bob").status_code == 302
    bob_page = other.get("/accounts/settings/").content.decode()
    (bob_id,) = _session_ids(bob_page)
    for session_id in (bob_id, "nonsense"):
        assert laptop.post(f"/accounts/settings/sessions/{session_id}/logout/").status_code == 404
    assert is_logged_in(other)
    assert Session.objects.count() == 2


def test_get_is_not_allowed_and_anonymous_is_sent_to_log_in(alice, client):
    laptop = _device(FIREFOX, "192.0.2.10")
    assert laptop.get("/accounts/settings/sessions/logout-others/").status_code == 405
    anonymous = client.post("/accounts/settings/sessions/logout-others/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
