"""Starred conversations: POST /chats/<id>/star/ toggles the star; starred ones sit in the sidebar's
"Starred" section at the top, out of their group's (or the direct messages') section."""

from messaging import selectors, services
from messaging.models import Star
from tests.messaging.test_sidebar import sections


def test_a_starred_conversation_moves_to_the_starred_section_at_the_top(cast, login):
    random = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="random")
    direct, _ = services.direct_open(actor=cast.outsider, username=cast.member.username)
    client = login(cast.member)

    response = client.post(f"/chats/{cast.general.pk}/star/")
    assert response.status_code == 302 and response["Location"] == f"/chats/{cast.general.pk}/"
    response = client.post(f"/chats/{direct.pk}/star/")
    assert [(s.user, s.conversation_id) for s in Star.objects.order_by("pk")] == [
        (cast.member, cast.general.pk),
        (cast.member, direct.pk),
    ]
    page = client.get(f"/chats/{random.pk}/").content.decode()
    assert [(key, ids) for key, _name, ids in sections(page)] == [
        ("starred", [direct.pk, cast.general.pk]),
        (f"group-{cast.group.pk}", [random.pk]),
    ]
    # In "Starred" a topic shows its group too (the stylesheet hides it only inside the group's section).
    assert 'data-section="starred" data-kind="starred" open>' in page
    # The conversation page's button says it is starred.
    page = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert 'aria-pressed="true"' in page.split('id="star-form"', 1)[1][:400]

    # Unstarring, as JSON this time: back to its group's section.
    response = client.post(f"/chats/{cast.general.pk}/star/", HTTP_ACCEPT="application/json")
    assert response.json() == {"conversation": cast.general.pk, "starred": False}
    starred = [c.pk for c in selectors.conversations_for_user(cast.member) if c.starred]
    assert starred == [direct.pk]
    # Stars are the user's own: nobody else's sidebar changes.
    assert not any(c.starred for c in selectors.conversations_for_user(cast.owner))


def test_only_members_star_and_only_by_post(cast, login):
    assert login(cast.outsider).post(f"/chats/{cast.general.pk}/star/").status_code == 404
    assert login(cast.outsider).post("/chats/999999/star/").status_code == 404
    assert login(cast.member).get(f"/chats/{cast.general.pk}/star/").status_code == 405
    assert login(None).post(f"/chats/{cast.general.pk}/star/").status_code == 302
    assert not Star.objects.exists()


def test_a_star_goes_when_access_does(cast, login):
    from groups import services as group_services

    login(cast.member).post(f"/chats/{cast.general.pk}/star/")
    group_services.member_remove(actor=cast.owner, group_id=cast.group.pk, username=cast.member.username)
    assert selectors.conversations_for_user(cast.member) == []
    html = login(cast.member).get("/chats/").content.decode()
    assert "sidebar-section" not in html
