"""New topic conversations in a group, and direct conversations (/dm/)."""

import pytest

from messaging.models import Conversation

pytestmark = pytest.mark.django_db


def topic_url(cast) -> str:
    return f"/groups/{cast.group.pk}/conversations/new/"


def topic_names(cast) -> list[str]:
    return sorted(Conversation.objects.filter(group=cast.group).values_list("name", flat=True))


# --- POST /groups/<id>/conversations/new/ -------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_members_create_topics(login, cast, role):
    response = login(getattr(cast, role)).post(topic_url(cast), {"name": "  Release plan "})
    assert response.status_code == 302
    topic = Conversation.objects.get(group=cast.group, name="Release plan")
    assert response["Location"] == f"/chats/{topic.pk}/"
    # Every member sees it at once.
    assert login(cast.other_member).get(f"/chats/{topic.pk}/").status_code == 200


def test_topic_refusals_change_nothing(login, cast):
    anonymous = login(None).post(topic_url(cast), {"name": "sneaky"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert login(cast.outsider).post(topic_url(cast), {"name": "sneaky"}).status_code == 404
    assert login(cast.outsider).post(topic_url(cast), {"name": ""}).status_code == 404  # 404 before validation
    assert login(cast.member).post("/groups/999999/conversations/new/", {"name": "x"}).status_code == 404
    assert login(cast.member).get(topic_url(cast)).status_code == 405
    assert topic_names(cast) == ["general"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("GENERAL", "already has a conversation named"),
        (" General ", "already has a conversation named"),
        ("", "Give the conversation a name."),
        ("   ", "Give the conversation a name."),
        ("n" * 81, "at most 80 characters"),
    ],
)
def test_topic_invalid_names_are_400_with_the_form(login, cast, name, error):
    response = login(cast.member).post(topic_url(cast), {"name": name})
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html and f'action="{topic_url(cast)}"' in html
    assert topic_names(cast) == ["general"]


def test_topic_name_of_80_characters_is_fine(login, cast):
    assert login(cast.member).post(topic_url(cast), {"name": "n" * 80}).status_code == 302


def test_conversation_page_offers_the_topic_form(login, cast):
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'action="{topic_url(cast)}"' in html and 'name="name"' in html


# --- /dm/ ---------------------------------------------------------------------------------------


def test_dm_page(login, alice):
    assert login(None).get("/dm/").status_code == 302
    response = login(alice).get("/dm/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="/dm/"' in html and 'name="username"' in html


def test_dm_same_conversation_from_either_side(login, alice, bob):
    first = login(alice).post("/dm/", {"username": "bob"})
    assert first.status_code == 302
    conversation = Conversation.objects.get(kind="direct")
    assert first["Location"] == f"/chats/{conversation.pk}/"
    for client, username in ((login(bob), "alice"), (login(alice), "BOB"), (login(alice), "bob")):
        response = client.post(f"/dm/{username}/")
        assert response.status_code == 302 and response["Location"] == f"/chats/{conversation.pk}/"
    assert login(bob).post("/dm/", {"username": "Alice"})["Location"] == f"/chats/{conversation.pk}/"
    assert Conversation.objects.filter(kind="direct").count() == 1


def test_dm_unknown_user_is_404_with_a_clear_message(login, alice):
    for response in (login(alice).post("/dm/nobody/"), login(alice).post("/dm/", {"username": "nobody"})):
        assert response.status_code == 404
        assert "There is no user named “nobody”." in response.content.decode()
    assert not Conversation.objects.exists()


def test_dm_yourself_is_400_with_a_clear_message(login, alice):
    for response in (login(alice).post("/dm/alice/"), login(alice).post("/dm/", {"username": "Alice"})):
        assert response.status_code == 400
        assert "You cannot start a direct conversation with yourself." in response.content.decode()
    assert not Conversation.objects.exists()


def test_dm_blank_form_is_400(login, alice):
    response = login(alice).post("/dm/", {"username": ""})
    assert response.status_code == 400
    assert "Enter the username" in response.content.decode()


def test_dm_refusals(login, alice, bob):
    anonymous = login(None).post("/dm/bob/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert login(None).post("/dm/", {"username": "bob"}).status_code == 302
    assert login(alice).get("/dm/bob/").status_code == 405
    assert not Conversation.objects.exists()


def test_dm_inactive_user_is_not_found(login, alice, bob):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert login(alice).post("/dm/bob/").status_code == 404


def test_dm_outsider_cannot_open_someone_elses_direct(login, alice, bob, carol):
    login(alice).post("/dm/bob/")
    conversation = Conversation.objects.get(kind="direct")
    assert login(carol).get(f"/chats/{conversation.pk}/").status_code == 404
    assert login(carol).get(f"/chats/{conversation.pk}/messages/").status_code == 404


def test_dm_by_display_name_ignoring_case_and_accents(login, alice, make_user):
    zoe = make_user("zoe", display_name="Zoë Ödegaard")
    response = login(alice).post("/dm/", {"username": "zoe odegaard"})
    assert response.status_code == 302
    direct = Conversation.objects.get(kind="direct")
    assert response["Location"] == f"/chats/{direct.pk}/"
    assert {direct.user_low_id, direct.user_high_id} == {alice.pk, zoe.pk}


def test_dm_with_a_shared_display_name_asks_for_the_username(login, alice, make_user):
    make_user("grace1", display_name="Grace Hopper")
    make_user("grace2", display_name="Grace Hopper")
    response = login(alice).post("/dm/", {"username": "Grace Hopper"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "More than one person is called “Grace Hopper”. Enter their username instead" in body
    assert 'value="Grace Hopper"' in body
    assert not Conversation.objects.exists()
    assert login(alice).post("/dm/", {"username": "@grace2"}).status_code == 302


def test_dm_form_is_a_people_picker(login, alice):
    body = login(alice).get("/dm/").content.decode()
    assert 'data-people-picker="one"' in body and 'name="username"' in body
