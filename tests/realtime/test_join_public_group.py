"""Joining a public group through the page reaches every open tab of the joiner at once."""

import pytest
from django.test import Client

from groups import services as group_services
from messaging import services
from messaging.selectors import default_conversation
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_joining_a_public_group_adds_its_conversations_to_every_tab(connect, team):
    open_group = await call(group_services.group_create)(actor=team.alice, name="Open house", is_public=True)
    general = await call(default_conversation)(open_group)
    await call(services.message_send)(actor=team.alice, conversation_id=general.pk, body="welcome, all")
    first_tab, second_tab = await connect(team.carol), await connect(team.carol)

    carol_page = Client()
    await call(carol_page.force_login)(team.carol)
    response = await call(carol_page.post)(f"/groups/{open_group.pk}/join/")
    assert response.status_code == 302

    for tab in (first_tab, second_tab):
        added = await tab.expect("conversation.added")
        assert added["conversation"] == {
            "id": general.pk,
            "kind": "group",
            "name": "Open house / general",
            "group": {"id": open_group.pk, "name": "Open house"},
            "last_seq": 1,
            "unread": 0,  # the history from before joining starts read
            "other_user_id": None,
            "other_user": None,
        }
    # From now on its events reach the joiner.
    await call(services.message_send)(actor=team.alice, conversation_id=general.pk, body="hello carol")
    assert (await first_tab.receive_type("message.new"))[0]["message"]["body"] == "hello carol"


async def test_a_refused_join_sends_nothing(connect, team):
    carol = await connect(team.carol)
    carol_page = Client()
    await call(carol_page.force_login)(team.carol)
    response = await call(carol_page.post)(f"/groups/{team.group.pk}/join/")  # private
    assert response.status_code == 404
    assert await carol.nothing()
