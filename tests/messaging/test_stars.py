"""Starred conversations: POST /chats/<id>/star/ toggles the star; starred ones sit in the sidebar's
"Starred" section at the top, out of their group's (or the direct messages') section."""

from messaging import selectors, services
from messaging.models import Star
from tests.messaging.test_sidebar import sections


def test_a_starred_conversation_moves_to_the_starred_section_at_the_top(team, login):
    random = services.topic_create(actor=team.owner, group_id=team.group.pk, name="random")
    direct, _ = services.direct_open(actor=team.outsider, username=team.member.username)
    client = login(team.member)

    response = client.post(f"/chats/{team.general.pk}/star/")
    assert response.status_code == 302 and response["Location"] == f"/chats/{team.general.pk}/"
    response = client.post(f"/chats/{direct.pk}/star/")
    assert [(s.user, s.conversation_id) for s in Star.objects.order_by("pk")] == [
        (team.member, team.general.pk),
        (team.member, direct.pk),
    ]
    page = client.get(f"/chats/{random.pk}/").content.decode()
    assert [(key, ids) for key, _name, ids in sections(page)] == [
        ("starred", [direct.pk, team.general.pk]),
        (f"group-{team.group.pk}", [random.pk]),
    ]
    # In "Starred" a topic shows its group too (the stylesheet hides it only inside the group's section).
    assert 'data-section="starred" data-kind="starred" open>' in page
    # The conversation page's button says it is starred.
    page = client.get(f"/chats/{team.general.pk}/").content.decode()
    assert 'aria-pressed="true"' in page.split('id="star-form"', 1)[1][:400]

    # Unstarring, as JSON this time: back to its group's section.
    response = client.post(f"/chats/{team.general.pk}/star/", HTTP_ACCEPT="application/json")
    assert response.json() == {"conversation": team.general.pk, "starred": False}
    starred = [c.pk for c in selectors.conversations_for_user(team.member) if c.starred]
    assert starred == [direct.pk]
    # Stars are the user's own: nobody else's sidebar changes.
    assert not any(c.starred for c in selectors.conversations_for_user(team.owner))


def test_only_members_star_and_only_by_post(team, login):
    assert login(team.outsider).post(f"/chats/{team.general.pk}/star/").status_code == 404
    assert login(team.outsider).post("/chats/999999/star/").status_code == 404
    assert login(team.member).get(f"/chats/{team.general.pk}/star/").status_code == 405
    assert login(None).post(f"/chats/{team.general.pk}/star/").status_code == 302
    assert not Star.objects.exists()


def test_a_star_goes_when_access_does(team, login):
    from groups import services as group_services

    login(team.member).post(f"/chats/{team.general.pk}/star/")
    group_services.member_remove(actor=team.owner, group_id=team.group.pk, username=team.member.username)
    assert selectors.conversations_for_user(team.member) == []
    html = login(team.member).get("/chats/").content.decode()
    assert "sidebar-section" not in html
