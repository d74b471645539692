"""What account changes publish to open sockets, read from the real channel layer.

The sockets' side (closing on these events) is tested with the consumer; here we
check that logging out, changing the password and deleting the account publish
the right events to the right channel-layer groups.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import Client

from chatsite.sockets import session_group, user_group
from groups import services as group_services
from messaging import services as messaging_services
from messaging.events import conversation_group
from messaging.selectors import default_conversation
from tests.accounts.helpers import login
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("close_thread_connections")]

NEW_PASSWORD = "a brand new passphrase 42"


async def listen(group: str) -> tuple:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    return layer, channel


async def next_event(layer, channel) -> dict:
    return await asyncio.wait_for(layer.receive(channel), timeout=10)


async def test_logout_closes_the_sockets_of_that_session_only(make_user):
    await sync_to_async(make_user)("eve")
    here, there = Client(), Client()
    await sync_to_async(login)(here, "eve")
    await sync_to_async(login)(there, "eve")
    layer, channel = await listen(session_group(here.cookies["sessionid"].value))
    _, other_channel = await listen(session_group(there.cookies["sessionid"].value))

    response = await sync_to_async(here.post)("/accounts/logout/")

    assert response.status_code == 302
    assert await next_event(layer, channel) == {"type": "sockets.close", "except_session": None}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(other_channel), timeout=0.5)


async def test_password_change_closes_every_other_sessions_sockets(make_user):
    user = await sync_to_async(make_user)("eve")
    client = Client()
    await sync_to_async(login)(client, "eve")
    key = client.cookies["sessionid"].value
    layer, channel = await listen(user_group(user.pk))

    response = await sync_to_async(client.post)(
        "/accounts/settings/",
        {"action": "password", "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    # The sockets of this device know the session by the key they connected with.
    assert await next_event(layer, channel) == {"type": "sockets.close", "except_session": key}


async def test_account_deletion_removes_conversations_and_closes_sockets(make_user):
    eve = await sync_to_async(make_user)("eve")
    await sync_to_async(make_user)("finn")
    group = await sync_to_async(group_services.group_create)(actor=eve, name="G", member_usernames=["finn"])
    general = await sync_to_async(default_conversation)(group)
    message, _ = await sync_to_async(messaging_services.message_send)(
        actor=eve, conversation_id=general.pk, body="to be deleted"
    )
    layer, user_channel = await listen(user_group(eve.pk))
    _, conversation_channel = await listen(conversation_group(general.pk))
    client = Client()
    await sync_to_async(client.force_login)(eve)

    response = await sync_to_async(client.post)(
        "/accounts/settings/delete/", {"password": PASSWORD, "delete_messages": "on"}
    )

    assert response.status_code == 302
    deleted = await next_event(layer, conversation_channel)
    assert deleted["type"] == "conversation.frame" and deleted["kind"] == "message.deleted"
    assert deleted["seq"] == message.seq
    assert '"deleted":true' in deleted["frame"] and '"display_name":"deleted user"' in deleted["frame"]
    removed = await next_event(layer, user_channel)
    assert removed == {"type": "access.removed", "conversations": [general.pk]}
    assert await next_event(layer, user_channel) == {"type": "sockets.close", "except_session": None}


async def test_logout_after_a_password_change_closes_the_sockets_opened_before_it(make_user):
    """Sockets opened before the change joined the group of the old session key."""
    await sync_to_async(make_user)("eve")
    client = Client()
    await sync_to_async(login)(client, "eve")
    old_key = client.cookies["sessionid"].value
    layer, channel = await listen(session_group(old_key))
    await sync_to_async(client.post)(
        "/accounts/settings/",
        {"action": "password", "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    new_key = client.cookies["sessionid"].value
    assert new_key != old_key
    _, new_channel = await listen(session_group(new_key))

    await sync_to_async(client.post)("/accounts/logout/")

    assert await next_event(layer, channel) == {"type": "sockets.close", "except_session": None}
    assert await next_event(layer, new_channel) == {"type": "sockets.close", "except_session": None}


async def test_deletion_publishes_only_the_newest_page_but_deletes_everything(make_user, settings):
    """Older messages are not on anyone's screen: they load from the database already deleted."""
    settings.HISTORY_PAGE_SIZE = 2
    eve = await sync_to_async(make_user)("eve")
    group = await sync_to_async(group_services.group_create)(actor=eve, name="G")
    general = await sync_to_async(default_conversation)(group)
    for n in range(4):
        await sync_to_async(messaging_services.message_send)(actor=eve, conversation_id=general.pk, body=f"m{n}")
    layer, channel = await listen(conversation_group(general.pk))
    await sync_to_async(make_user)("finn")
    await sync_to_async(group_services.member_add)(actor=eve, group_id=group.pk, username="finn")
    client = Client()
    await sync_to_async(client.force_login)(eve)

    await sync_to_async(client.post)("/accounts/settings/delete/", {"password": PASSWORD, "delete_messages": "on"})

    seqs = {(await next_event(layer, channel))["seq"] for _ in range(2)}
    assert seqs == {3, 4}
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=0.5)
    bodies = await sync_to_async(list)(general.messages.order_by("seq").values_list("body", "deleted"))
    assert bodies == [("", True)] * 4
