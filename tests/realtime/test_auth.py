"""The handshake's session and user (messaging.realtime.auth): Django's rules, in one query for a login.

The socket tests (test_connect.py, test_session_revocation.py) cover the refusals end to end;
these call `authenticate` directly, to count its queries and to compare the one-query read
with the backend's own lookup for a session that has no sessions-page row.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts.models import UserSession
from messaging.realtime.auth import authenticate
from tests.realtime.conftest import login_cookie

pytestmark = pytest.mark.django_db


def _key(user) -> str:
    return login_cookie(user).split(b"=", 1)[1].decode()


@pytest.mark.parametrize("engine", ["accounts.sessions", "django.contrib.sessions.backends.db"])
def test_a_login_session_and_its_user_are_read_in_one_query(alice, django_assert_num_queries, settings, engine):
    settings.SESSION_ENGINE = engine  # the site's (accounts/sessions.py) and Django's: the same rows
    key = _key(alice)
    assert UserSession.objects.filter(session_id=key, user=alice).exists()  # written at login
    with django_assert_num_queries(1):
        session, user = authenticate(key)
    assert user == alice and user.username == "alice" and user.is_authenticated
    assert session.session_key == key
    assert user.get_session_auth_hash() == session["_auth_user_hash"]


def test_a_session_without_its_sessions_page_row_still_finds_its_user(alice, django_assert_num_queries):
    key = _key(alice)
    UserSession.objects.filter(session_id=key).delete()
    with django_assert_num_queries(2):  # the session, then the backend's own lookup
        session, user = authenticate(key)
    assert user == alice and session.session_key == key


def test_an_unknown_expired_or_malformed_key_has_no_user():
    assert isinstance(authenticate("x" * 32)[1], AnonymousUser)
    assert authenticate("x" * 32)[0].session_key is None
    assert isinstance(authenticate("short")[1], AnonymousUser)


def test_an_expired_session_has_no_user(alice):
    key = _key(alice)
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    session, user = authenticate(key)
    assert isinstance(user, AnonymousUser) and session.session_key is None


def test_a_deactivated_account_has_no_user_with_either_read(alice):
    key, bare = _key(alice), _key(alice)
    UserSession.objects.filter(session_id=bare).delete()
    account_services.user_deactivate(user=alice)
    assert isinstance(authenticate(key)[1], AnonymousUser)
    assert isinstance(authenticate(bare)[1], AnonymousUser)


def test_a_stale_password_hash_flushes_the_session(alice):
    key = _key(alice)
    alice.set_password("another long passphrase 7")
    alice.save()
    assert isinstance(authenticate(key)[1], AnonymousUser)
    assert not Session.objects.filter(pk=key).exists()


def test_another_session_engine_reads_as_before(alice, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client = Client()
    client.force_login(alice)
    _session, user = authenticate(client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert user == alice
