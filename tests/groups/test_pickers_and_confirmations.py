"""People fields take display names; leave and remove ask first; owners and admins rename topics."""

import pytest

from groups.models import Group
from messaging.models import Conversation
from messaging.selectors import default_conversation
from tests.conftest import client_for
from tests.groups.conftest import roles, snapshot


@pytest.fixture
def grace(make_user):
    return make_user("ghopper", display_name="Grace Hopper")


# --- display names in people fields -------------------------------------------------------------


def test_new_group_members_take_display_names_without_splitting_them(cast, grace):
    response = client_for(cast.owner).post("/groups/new/", {"name": "Compilers", "members": "Grace Hopper; nick\nmax"})
    assert response.status_code == 302
    assert roles(Group.objects.get(name="Compilers").pk) == {
        "olivia": "owner",
        "ghopper": "member",
        "nick": "member",
        "max": "member",
    }


def test_an_ambiguous_display_name_asks_for_the_username_and_creates_nothing(cast, grace, make_user):
    make_user("gracie", display_name="grace hopper")
    response = client_for(cast.owner).post("/groups/new/", {"name": "Compilers", "members": "Grace Hopper, nick"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "More than one person is called “Grace Hopper”. Enter their username instead." in body
    assert not Group.objects.filter(name="Compilers").exists()


def test_add_member_by_display_name(cast, grace):
    response = client_for(cast.admin).post(f"/groups/{cast.group.pk}/members/", {"username": "grace hopper"})
    assert response.status_code == 302
    assert roles(cast.group.pk)["ghopper"] == "member"


def test_add_member_with_an_ambiguous_name_is_a_form_error(cast, grace, make_user):
    make_user("gh2", display_name="Grace Hopper")
    before = snapshot(cast.group.pk)
    response = client_for(cast.admin).post(f"/groups/{cast.group.pk}/members/", {"username": "Grace Hopper"})
    assert response.status_code == 400
    assert "Enter their username instead" in response.content.decode()
    assert 'value="Grace Hopper"' in response.content.decode()  # what was typed is kept
    assert snapshot(cast.group.pk) == before


def test_transfer_by_display_name_among_members_only(cast, make_user):
    make_user("max2", display_name="Max")  # an outsider with a member's display name
    response = client_for(cast.owner).post(f"/groups/{cast.group.pk}/transfer/", {"username": "Max"})
    assert response.status_code == 302  # the outsider does not make "Max" ambiguous here
    assert roles(cast.group.pk)["max"] == "owner"


def test_transfer_to_someone_outside_the_group_is_refused(cast):
    before = snapshot(cast.group.pk)
    response = client_for(cast.owner).post(f"/groups/{cast.group.pk}/transfer/", {"username": "Nora"})
    assert response.status_code == 400
    assert "Nora is not a member of this group." in response.content.decode()
    assert snapshot(cast.group.pk) == before


# --- confirmations ------------------------------------------------------------------------------


def test_leave_asks_on_its_own_page_first(cast):
    path = f"/groups/{cast.group.pk}/leave/"
    before = snapshot(cast.group.pk)
    page = client_for(cast.member).get(path)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Leave Team?" in body and f'action="{path}"' in body and 'method="post"' in body
    assert snapshot(cast.group.pk) == before  # asking changes nothing
    assert client_for(cast.member).post(path).status_code == 302
    assert "mia" not in roles(cast.group.pk)


def test_the_owner_and_outsiders_get_no_leave_page(cast):
    path = f"/groups/{cast.group.pk}/leave/"
    assert client_for(cast.owner).get(path).status_code == 403
    assert client_for(cast.outsider).get(path).status_code == 404


def test_remove_asks_on_its_own_page_first(cast):
    path = f"/groups/{cast.group.pk}/members/max/remove/"
    page = client_for(cast.admin).get(path)
    assert page.status_code == 200
    assert "Remove Max from Team?" in page.content.decode() and f'action="{path}"' in page.content.decode()
    assert "max" in roles(cast.group.pk)
    assert client_for(cast.admin).post(path).status_code == 302
    assert "max" not in roles(cast.group.pk)


@pytest.mark.parametrize(
    ("actor", "target", "status"),
    [("member", "max", 403), ("admin", "ada", 403), ("admin", "olivia", 403), ("outsider", "max", 404)],
)
def test_the_remove_page_follows_the_remove_rules(cast, actor, target, status):
    user = {"member": cast.member, "admin": cast.admin, "outsider": cast.outsider}[actor]
    assert client_for(user).get(f"/groups/{cast.group.pk}/members/{target}/remove/").status_code == status


def test_destructive_links_carry_their_question_for_the_dialog(cast):
    owner_page = client_for(cast.owner).get(f"/groups/{cast.group.pk}/").content.decode()
    assert f'href="/groups/{cast.group.pk}/delete/"' in owner_page
    assert 'data-confirm="Delete Team?' in owner_page and 'data-confirm-button="Delete group"' in owner_page
    assert 'data-confirm="Remove Max from Team?' in owner_page
    member_page = client_for(cast.member).get(f"/groups/{cast.group.pk}/").content.decode()
    assert 'data-confirm="Leave Team?' in member_page and 'data-confirm-button="Leave group"' in member_page


# --- renaming topics ----------------------------------------------------------------------------


def test_owner_and_admins_rename_topics(cast):
    general = default_conversation(cast.group)
    path = f"/chats/{general.pk}/rename/"
    page = client_for(cast.admin).get(path)
    assert page.status_code == 200 and 'value="general"' in page.content.decode()
    response = client_for(cast.admin).post(path, {"name": "  lobby "})
    assert response.status_code == 302 and response["Location"] == f"/groups/{cast.group.pk}/"
    assert Conversation.objects.get(pk=general.pk).name == "lobby"
    assert client_for(cast.owner).post(path, {"name": "hall"}).status_code == 302
    assert Conversation.objects.get(pk=general.pk).name == "hall"


def test_rename_refusals_change_nothing(cast):
    general = default_conversation(cast.group)
    Conversation.objects.create(kind=Conversation.Kind.GROUP, group=cast.group, name="Random")
    path = f"/chats/{general.pk}/rename/"
    assert client_for(cast.member).post(path, {"name": "mine"}).status_code == 403
    assert client_for(cast.member).get(path).status_code == 403
    assert client_for(cast.outsider).post(path, {"name": "mine"}).status_code == 404
    for name, error in [("RANDOM", "already has a conversation named"), ("   ", ""), ("x" * 81, "")]:
        response = client_for(cast.owner).post(path, {"name": name})
        assert response.status_code == 400
        assert error in response.content.decode()
    assert Conversation.objects.get(pk=general.pk).name == "general"
    # Renaming to its own name in another case is fine.
    assert client_for(cast.owner).post(path, {"name": "General"}).status_code == 302


def test_a_direct_conversation_cannot_be_renamed(cast):
    from messaging import services as messaging_services

    direct, _ = messaging_services.direct_open(actor=cast.owner, username="max")
    assert client_for(cast.owner).post(f"/chats/{direct.pk}/rename/", {"name": "us"}).status_code == 404


def test_managers_see_rename_links_members_do_not(cast):
    general = default_conversation(cast.group)
    assert (
        f'href="/chats/{general.pk}/rename/"'
        in client_for(cast.admin).get(f"/groups/{cast.group.pk}/").content.decode()
    )
    assert (
        f"/chats/{general.pk}/rename/" not in client_for(cast.member).get(f"/groups/{cast.group.pk}/").content.decode()
    )
