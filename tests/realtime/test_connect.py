"""Opening the socket: who is let in, and what `hello` says."""

import pytest

from messaging import services
from tests.realtime.conftest import TIMEOUT, call, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_is_refused(connect):
    await connect(expect=False)


async def test_a_cookie_without_a_live_session_is_refused(connect):
    await connect(cookie=b"sessionid=not-a-session", expect=False)


async def test_a_foreign_origin_is_refused_even_when_logged_in(connect, alice):
    cookie = await call(login_cookie)(alice)
    await connect(cookie=cookie, origin=b"https://evil.example", expect=False)
    await connect(cookie=cookie, origin=None, expect=False)
    socket = await connect(cookie=cookie)  # the same session from the site itself
    assert socket.hello["user"]["username"] == "alice"


async def test_hello_names_the_user_and_every_conversation_with_cursors(connect, team):
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="one")
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="two")
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="mine")
    direct, _ = await call(services.direct_open)(actor=team.alice, username="carol")

    socket = await connect(team.alice)

    assert socket.hello == {
        "type": "hello",
        "user": {"id": team.alice.pk, "username": "alice", "display_name": "Alice A.", "avatar_url": None},
        "conversations": [
            {"id": team.general.pk, "last_seq": 3, "unread": 2, "mentions": 0},
            {"id": direct.pk, "last_seq": 0, "unread": 0, "mentions": 0},
        ],
        "muted": [],
        "starred": [],
    }
    carol = await connect(team.carol)
    assert carol.hello["conversations"] == [{"id": direct.pk, "last_seq": 0, "unread": 0, "mentions": 0}]


async def test_a_deactivated_account_is_refused(connect, alice):
    from accounts import services as account_services

    cookie = await call(login_cookie)(alice)
    await call(account_services.user_deactivate)(user=alice)
    await connect(cookie=cookie, expect=False)


async def test_an_expired_session_is_refused(connect, alice):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    cookie = await call(login_cookie)(alice)
    key = cookie.split(b"=", 1)[1].decode()
    await call(Session.objects.filter(pk=key).update)(expire_date=timezone.now() - timedelta(seconds=1))
    await connect(cookie=cookie, expect=False)


async def test_a_session_from_before_a_password_change_is_refused_and_ended(connect, alice):
    """The session's hash no longer matches the password's: refused, and the session flushed as Django does."""
    from django.contrib.sessions.models import Session

    from accounts.models import User

    cookie = await call(login_cookie)(alice)
    key = cookie.split(b"=", 1)[1].decode()

    def change_password() -> None:
        user = User.objects.get(pk=alice.pk)
        user.set_password("another long passphrase 7")
        user.save()

    await call(change_password)()
    await connect(cookie=cookie, expect=False)
    assert not await call(Session.objects.filter(pk=key).exists)()


async def test_a_session_naming_an_unknown_backend_is_refused(connect, alice):
    from django.contrib.auth import BACKEND_SESSION_KEY

    from messaging.realtime.auth import session_store

    cookie = await call(login_cookie)(alice)
    key = cookie.split(b"=", 1)[1].decode()

    def rewrite() -> None:
        session = session_store(key)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.RemoteUserBackend"
        session.save()

    await call(rewrite)()
    await connect(cookie=cookie, expect=False)


async def test_a_handshake_is_not_queued_behind_work_on_the_shared_sync_thread(application, alice):
    """The session and user are read on the socket pool: asgiref's single shared thread, busy with
    something slow, does not hold up a socket opening."""
    import asyncio
    import threading

    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator

    cookie = await call(login_cookie)(alice)
    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait, thread_sensitive=True)(TIMEOUT * 3))
    try:
        ws = WebsocketCommunicator(
            application,
            "/ws/",
            headers=[(b"host", b"testserver"), (b"origin", b"http://testserver"), (b"cookie", cookie)],
        )
        connected, _ = await ws.connect(timeout=TIMEOUT)
        assert connected
        hello = await ws.receive_json_from(timeout=TIMEOUT)
        assert hello["user"]["username"] == "alice"
        assert not busy.done()  # the shared thread was busy all along
        await ws.disconnect()
    finally:
        release.set()
        await busy
