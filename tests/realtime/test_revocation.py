"""Losing access takes effect on open sockets at once: no more events, sends refused."""

import asyncio
import json

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from groups import services as group_services
from messaging import protocol, services
from tests.conftest import PASSWORD
from tests.realtime.conftest import TIMEOUT, call, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def test_removed_from_a_group_stops_its_events_and_refuses_sends(connect, team):
    direct, _ = await call(services.direct_open)(actor=team.alice, username="bob")
    alice, bob = await connect(team.alice), await connect(team.bob)

    await call(group_services.member_remove)(actor=team.alice, group_id=team.group.pk, username="bob")

    assert await bob.expect("conversation.removed") == {"type": "conversation.removed", "conversation": team.general.pk}
    await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "after", "client_id": "a"})
    await alice.expect("message.ack")
    await alice.send({"type": "typing", "conversation": team.general.pk})
    assert await bob.nothing()  # neither the message nor typing
    await bob.send({"type": "message.send", "conversation": team.general.pk, "body": "me?", "client_id": "b"})
    assert (await bob.expect("error"))["code"] == "not_found"
    await bob.send({"type": "sync", "cursors": {str(team.general.pk): 0}})
    assert await bob.expect("sync.done") == {"type": "sync.done", "complete": True}  # nothing from it

    # The direct conversation is untouched.
    await alice.send({"type": "message.send", "conversation": direct.pk, "body": "still here", "client_id": "c"})
    assert (await bob.expect("message.new"))["message"]["body"] == "still here"


async def test_added_to_a_group_delivers_its_conversations_from_then_on(connect, team):
    carol = await connect(team.carol)
    await call(group_services.member_add)(actor=team.alice, group_id=team.group.pk, username="carol")
    added = await carol.expect("conversation.added")
    assert added["conversation"] == {
        "id": team.general.pk,
        "kind": "group",
        "name": "Team / general",
        "group": {"id": team.group.pk, "name": "Team"},
        "last_seq": 0,
        "unread": 0,
        "other_user_id": None,
        "other_user": None,
    }
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="welcome")
    assert (await carol.expect("message.new"))["message"]["body"] == "welcome"


async def test_a_conversation_gained_with_history_starts_read_and_counts_what_comes_after(connect, team):
    for n in range(3):
        await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body=f"{n}")
    carol = await connect(team.carol)
    await call(group_services.member_add)(actor=team.alice, group_id=team.group.pk, username="carol")
    added = (await carol.expect("conversation.added"))["conversation"]
    assert (added["last_seq"], added["unread"]) == (3, 0)  # the history from before she was added is read
    assert (await connect(team.carol)).hello["conversations"] == [
        {"id": team.general.pk, "last_seq": 3, "unread": 0, "mentions": 0}
    ]
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="then one more")
    await carol.expect("message.new")
    assert (await carol.expect("unread"))["count"] == 1


async def test_a_deleted_group_is_removed_from_every_member_socket(connect, team):
    alice, bob = await connect(team.alice), await connect(team.bob)
    await call(group_services.group_delete)(actor=team.alice, group_id=team.group.pk)
    removed = {"type": "conversation.removed", "conversation": team.general.pk}
    assert await alice.expect("conversation.removed") == removed
    assert await bob.expect("conversation.removed") == removed
    await bob.send({"type": "message.send", "conversation": team.general.pk, "body": "hello?", "client_id": "x"})
    assert (await bob.expect("error"))["code"] == "not_found"


async def test_logging_out_closes_that_sessions_sockets_only(connect, team):
    laptop = Client()
    await call(laptop.force_login)(team.alice)
    laptop_cookie = f"sessionid={laptop.cookies['sessionid'].value}".encode()
    laptop_tab, laptop_other_tab = await connect(cookie=laptop_cookie), await connect(cookie=laptop_cookie)
    phone = await connect(team.alice)

    response = await call(laptop.post)("/accounts/logout/")
    assert response.status_code == 302

    assert await laptop_tab.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert await laptop_other_tab.closed_with() == protocol.CLOSE_SESSION_ENDED
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="for the phone")
    assert (await phone.expect("message.new"))["message"]["body"] == "for the phone"
    await connect(cookie=laptop_cookie, expect=False)  # and the old cookie does not open a new one


async def test_a_password_change_closes_every_other_sessions_sockets(connect, team):
    desk, laptop = Client(), Client()
    await call(desk.force_login)(team.alice)
    await call(laptop.force_login)(team.alice)
    desk_socket = await connect(cookie=f"sessionid={desk.cookies['sessionid'].value}".encode())
    laptop_socket = await connect(cookie=f"sessionid={laptop.cookies['sessionid'].value}".encode())

    new_password = "a completely different passphrase 42"
    response = await call(desk.post)(
        "/accounts/settings/",
        {"action": "password", "old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302

    assert await laptop_socket.closed_with() == protocol.CLOSE_SESSION_ENDED
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="desk stays")
    assert (await desk_socket.expect("message.new"))["message"]["body"] == "desk stays"


async def test_deactivating_an_account_closes_its_sockets(connect, team):
    cookie = await call(login_cookie)(team.bob)
    bob, bob_other_tab = await connect(cookie=cookie), await connect(team.bob)

    await call(account_services.user_deactivate)(user=team.bob)

    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert await bob_other_tab.closed_with() == protocol.CLOSE_SESSION_ENDED
    await connect(cookie=cookie, expect=False)


async def test_a_lost_close_event_is_caught_by_the_periodic_account_check(connect, team, settings):
    settings.WS_PRESENCE_TTL = 0.3
    settings.REVOCATION_RECHECK_SECONDS = 0.1
    bob = await connect(team.bob)
    await call(User.objects.filter(pk=team.bob.pk).update)(is_active=False)  # no event published
    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED


async def test_a_closed_socket_gets_nothing_more(connect, team):
    cookie = await call(login_cookie)(team.bob)
    bob = await connect(cookie=cookie)
    await call(account_services.user_deactivate)(user=team.bob)
    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="too late")
    assert await bob.ws.receive_nothing(0.2)


async def test_deleting_an_account_removes_its_conversations_then_closes_its_sockets(connect, team):
    direct, _ = await call(services.direct_open)(actor=team.alice, username="bob")
    alice, bob = await connect(team.alice), await connect(team.bob)

    await call(account_services.user_delete)(user=team.bob)

    removed = []
    while True:
        output = await bob.ws.receive_output(2)
        if output["type"] == "websocket.close":
            break
        frame = json.loads(output["text"])
        if frame["type"] != "presence":
            assert frame["type"] == "conversation.removed", frame
            removed.append(frame["conversation"])
    assert output.get("code") == protocol.CLOSE_SESSION_ENDED
    assert sorted(removed) == sorted([team.general.pk, direct.pk])
    # The others keep their conversations: alice still gets what is sent there.
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="still on")
    assert (await alice.expect("message.new"))["message"]["body"] == "still on"


async def test_the_process_heartbeat_closes_only_the_deactivated_users_sockets(
    connect, team, settings, registered, presence_clock
):
    """One task for all sockets re-checks every account in one query; the others stay open and online."""
    from messaging.realtime import presence as realtime_presence
    from messaging.realtime.heartbeat import heartbeat

    settings.WS_PRESENCE_TTL = 3  # refreshed every second; the store's clock is the test's
    settings.REVOCATION_RECHECK_SECONDS = 0.1
    alice, bob, bob_other_tab = await connect(team.alice), await connect(team.bob), await connect(team.bob)
    assert {alice.hello["user"]["id"], bob.hello["user"]["id"]} == {team.alice.pk, team.bob.pk}
    await registered(3)
    assert len(heartbeat.sockets) == 3
    await call(User.objects.filter(pk=team.bob.pk).update)(is_active=False)  # no event published

    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert await bob_other_tab.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert len(heartbeat.sockets) == 1
    presence_clock.advance(2 * settings.WS_PRESENCE_TTL)  # every entry written so far has expired...
    online_among = call(realtime_presence.store().online_among)
    refreshed = asyncio.get_running_loop().time() + TIMEOUT
    while not (online := await online_among([team.alice.pk, team.bob.pk])):  # ...until the next refresh
        assert asyncio.get_running_loop().time() < refreshed, "the heartbeat did not refresh alice's socket"
        await asyncio.sleep(0.05)
    assert online == {team.alice.pk}
    await alice.ws.disconnect()
    assert heartbeat.sockets == {}
