"""Per-conversation mute: POST /chats/<id>/mute/ toggles it; muted conversations sort last,
their count greyed, their mention marker still shown."""

from messaging import selectors, services
from messaging.models import Mute


def send(user, conversation, body):
    services.message_send(actor=user, conversation_id=conversation.pk, body=body)


def test_mute_toggles_and_sorts_the_conversation_last(team, login):
    other = services.topic_create(actor=team.owner, group_id=team.group.pk, name="other")
    send(team.owner, other, "older")
    send(team.owner, team.general, "@mia newest")
    client = login(team.member)
    assert [c.pk for c in selectors.conversations_for_user(team.member)][:2] == [team.general.pk, other.pk]

    response = client.post(f"/chats/{team.general.pk}/mute/")
    assert response.status_code == 302 and response["Location"] == f"/chats/{team.general.pk}/"
    conversations = selectors.conversations_for_user(team.member)
    assert conversations[-1].pk == team.general.pk and conversations[-1].muted
    page = client.get(f"/chats/{other.pk}/").content.decode()
    row = page[page.index(f'data-conversation-id="{team.general.pk}"') - 80 :]
    assert 'class="conversation-row has-unread muted"' in row[:200]
    assert 'aria-label="1 mentions of you">@1</span>' in row
    assert 'aria-pressed="true"' in client.get(f"/chats/{team.general.pk}/").content.decode()

    json = client.post(f"/chats/{team.general.pk}/mute/", HTTP_ACCEPT="application/json")
    assert json.json() == {"conversation": team.general.pk, "muted": False}
    assert not Mute.objects.exists()


def test_only_members_mute_and_only_by_post(team, login):
    assert login(team.outsider).post(f"/chats/{team.general.pk}/mute/").status_code == 404
    assert login(team.member).get(f"/chats/{team.general.pk}/mute/").status_code == 405
    assert login(None).post(f"/chats/{team.general.pk}/mute/").status_code == 302
    assert not Mute.objects.exists()
