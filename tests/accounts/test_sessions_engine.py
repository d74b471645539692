"""accounts/sessions.py: Django's database sessions read by hand-written SQL. What a session holds,
when it has expired, and keys that name nothing: the same answers as Django's own `db` engine."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_site_uses_it_and_a_logged_in_page_reads_its_session(alice, client):
    assert settings.SESSION_ENGINE == "accounts.sessions"
    client.force_login(alice)
    assert client.get("/chats/").context["user"] == alice
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SessionStore(key).load() == DjangoStore(key).load() != {}


def test_what_a_session_holds_and_when_it_has_expired():
    store = SessionStore()
    store["colour"] = "green"
    store["count"] = 3
    store.create()
    key = store.session_key
    assert SessionStore(key).load() == DjangoStore(key).load() == {"colour": "green", "count": 3}
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    ours, djangos = SessionStore(key), DjangoStore(key)
    assert ours.load() == djangos.load() == {}
    assert ours.session_key is None and djangos.session_key is None


@pytest.mark.parametrize("key", ["abcdefgh12345678", "ABCDEFGH12345678", "abcdefgh\x0012345678", "a" * 200, "é" * 10])
def test_a_key_that_names_no_session_loads_nothing(key):
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None
    assert Session.objects.count() == 0


def test_a_session_written_and_read_again_through_it():
    store = SessionStore()
    store["a"] = 1
    store.save()
    again = SessionStore(store.session_key)
    again["b"] = 2
    again.save()
    assert SessionStore(store.session_key).load() == {"a": 1, "b": 2}
    again.delete()
    assert SessionStore(store.session_key).load() == {}
