"""Per-conversation mute: POST /chats/<id>/mute/ toggles it; muted conversations sort last,
their count greyed, their mention marker still shown."""

from messaging import selectors, services
from messaging.models import Mute
from tests.conftest import send


def test_mute_toggles_and_sorts_the_conversation_last(cast, login):
    other = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="other")
    send(cast.owner, other, "older")
    send(cast.owner, cast.general, "@mia newest")
    client = login(cast.member)
    assert [c.pk for c in selectors.conversations_for_user(cast.member)][:2] == [cast.general.pk, other.pk]

    response = client.post(f"/chats/{cast.general.pk}/mute/")
    assert response.status_code == 302 and response["Location"] == f"/chats/{cast.general.pk}/"
    conversations = selectors.conversations_for_user(cast.member)
    assert conversations[-1].pk == cast.general.pk and conversations[-1].muted
    page = client.get(f"/chats/{other.pk}/").content.decode()
    row = page[page.index(f'data-conversation-id="{cast.general.pk}"') - 80 :]
    assert 'class="conversation-row has-unread muted"' in row[:200]
    assert 'aria-label="1 mentions of you">@1</span>' in row
    assert 'aria-pressed="true"' in client.get(f"/chats/{cast.general.pk}/").content.decode()

    json = client.post(f"/chats/{cast.general.pk}/mute/", HTTP_ACCEPT="application/json")
    assert json.json() == {"conversation": cast.general.pk, "muted": False}
    assert not Mute.objects.exists()


def test_only_members_mute_and_only_by_post(cast, login):
    assert login(cast.outsider).post(f"/chats/{cast.general.pk}/mute/").status_code == 404
    assert login(cast.member).get(f"/chats/{cast.general.pk}/mute/").status_code == 405
    assert login(None).post(f"/chats/{cast.general.pk}/mute/").status_code == 302
    assert not Mute.objects.exists()
