"""Muting reaches all of the user's tabs: `conversation.muted` to every socket of that user, nobody else's."""

import pytest
from django.test import Client

from messaging import protocol
from messaging.models import Mute
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def post_mute(user, conversation_id):
    client = Client()
    client.force_login(user)
    return client.post(f"/chats/{conversation_id}/mute/", HTTP_ACCEPT="application/json")


async def test_muting_on_one_tab_reaches_the_users_other_tabs_and_nobody_else(connect, team):
    bob_tab, bob_other_tab, alice = await connect(team.bob), await connect(team.bob), await connect(team.alice)

    response = await call(post_mute)(team.bob, team.general.pk)
    assert response.json() == {"conversation": team.general.pk, "muted": True}
    expected = {"type": protocol.CONVERSATION_MUTED, "conversation": team.general.pk, "muted": True}
    assert await bob_tab.expect("conversation.muted") == expected
    assert await bob_other_tab.expect("conversation.muted") == expected
    assert await alice.nothing()

    await call(post_mute)(team.bob, team.general.pk)
    expected["muted"] = False
    assert await bob_other_tab.expect("conversation.muted") == expected
    assert not await call(Mute.objects.exists)()


async def test_a_refused_mute_sends_nothing(connect, team):
    carol = await connect(team.carol)
    bob = await connect(team.bob)
    assert (await call(post_mute)(team.carol, team.general.pk)).status_code == 404
    assert await carol.nothing()
    assert await bob.nothing()


async def test_a_tab_that_was_away_gets_its_mutes_and_stars_in_hello(connect, team):
    """Changed while a tab was closed or cut off: `hello` lists what is muted and starred, of the
    conversations the user can still see."""
    from groups import services as group_services
    from messaging import services

    other = await call(group_services.group_create)(actor=team.alice, name="Other", member_usernames=["bob"])
    other_general = await call(lambda: other.conversations.get().pk)()
    assert (await connect(team.bob)).hello["muted"] == []

    await call(services.conversation_mute_toggle)(actor=team.bob, conversation_id=team.general.pk)
    await call(services.conversation_star_toggle)(actor=team.bob, conversation_id=team.general.pk)
    await call(services.conversation_mute_toggle)(actor=team.bob, conversation_id=other_general)
    await call(services.conversation_star_toggle)(actor=team.bob, conversation_id=other_general)
    await call(group_services.member_remove)(actor=team.alice, group_id=other.pk, username="bob")

    hello = (await connect(team.bob)).hello
    assert hello["muted"] == [team.general.pk]  # not the group he left
    assert hello["starred"] == [team.general.pk]
    assert (await connect(team.alice)).hello["muted"] == []  # someone else's mutes are theirs
