"""Joining through an invite link reaches the new member's open sockets at once, like being added."""

import re

import pytest
from django.test import Client

from groups import services as group_services
from messaging import services
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_joining_by_link_delivers_conversation_added_live(connect, team):
    owner = Client()
    await call(owner.force_login)(team.alice)
    response = await call(owner.post)(f"/groups/{team.group.pk}/invites/", {"expires": "1d"})
    (link,) = re.findall(r'id="new-invite-link" value="http://testserver([^"]+)"', response.content.decode())

    carol_socket = await connect(team.carol)
    carol = Client()
    await call(carol.force_login)(team.carol)
    assert (await call(carol.post)(link)).status_code == 302

    added = await carol_socket.expect("conversation.added")
    assert added["conversation"]["id"] == team.general.pk
    assert added["conversation"]["group"] == {"id": team.group.pk, "name": "Team"}
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="welcome, carol")
    assert (await carol_socket.expect("message.new"))["message"]["body"] == "welcome, carol"


async def test_the_last_use_goes_to_one_person_only(team, make_user):
    invite, token = await call(group_services.invite_create)(
        actor=team.alice, group_id=team.group.pk, expires="never", max_uses=1
    )
    dave = await call(make_user)("dave")
    await call(group_services.invite_accept)(actor=team.carol, token=token)
    with pytest.raises(group_services.Invalid):
        await call(group_services.invite_accept)(actor=dave, token=token)
    await call(invite.refresh_from_db)()
    assert invite.uses == 1
