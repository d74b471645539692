"""A star reaches the user's other tabs (`conversation.starred`), and nobody else's."""

import pytest
from django.test import Client

from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_starring_reaches_every_tab_of_the_user_only(connect, team):
    form = Client()
    await call(form.force_login)(team.bob)
    tab_one, tab_two, alice = await connect(team.bob), await connect(team.bob), await connect(team.alice)

    response = await call(form.post)(f"/chats/{team.general.pk}/star/")
    assert response.status_code == 302
    for tab in (tab_one, tab_two):
        frame = await tab.expect("conversation.starred")
        assert frame == {"type": "conversation.starred", "conversation": team.general.pk, "starred": True}
    assert await alice.nothing()

    await call(form.post)(f"/chats/{team.general.pk}/star/")
    assert (await tab_one.expect("conversation.starred"))["starred"] is False

    # A refused star (not a member) sends nothing.
    carol = Client()
    await call(carol.force_login)(team.carol)
    assert (await call(carol.post)(f"/chats/{team.general.pk}/star/")).status_code == 404
    assert await tab_one.nothing() and await alice.nothing()
