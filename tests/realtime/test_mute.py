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
