"""Opening the socket: who is let in, and what `hello` says."""

import pytest

from messaging import services
from tests.realtime.conftest import call, login_cookie

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
        "user": {"id": team.alice.pk, "username": "alice", "display_name": "Alice A."},
        "conversations": [
            {"id": team.general.pk, "last_seq": 3, "unread": 2},
            {"id": direct.pk, "last_seq": 0, "unread": 0},
        ],
    }
    carol = await connect(team.carol)
    assert carol.hello["conversations"] == [{"id": direct.pk, "last_seq": 0, "unread": 0}]


async def test_a_deactivated_account_is_refused(connect, alice):
    from accounts import services as account_services

    cookie = await call(login_cookie)(alice)
    await call(account_services.user_deactivate)(user=alice)
    await connect(cookie=cookie, expect=False)
