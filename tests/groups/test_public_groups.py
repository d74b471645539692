"""Public groups: choosing visibility, browsing /groups/, joining, and the groups every new account joins."""

import pytest
from django.test import Client

from accounts import services as account_services
from groups import services
from groups.models import Group, Membership
from messaging.selectors import default_conversation
from tests.conftest import PASSWORD, client_for
from tests.groups.conftest import roles, snapshot


@pytest.fixture
def open_group(cast) -> Group:
    group = services.group_create(actor=cast.owner, name="Open house", description="Everyone welcome", is_public=True)
    return group


def test_groups_are_private_by_default_and_public_when_chosen(cast):
    olivia = client_for(cast.owner)
    olivia.post("/groups/new/", {"name": "Quiet"})
    olivia.post("/groups/new/", {"name": "Loud", "visibility": "public"})
    assert Group.objects.get(name="Quiet").is_public is False
    assert Group.objects.get(name="Loud").is_public is True
    assert cast.group.is_public is False  # made before: private
    response = olivia.post("/groups/new/", {"name": "Odd", "visibility": "everyone"})
    assert response.status_code == 400
    assert not Group.objects.filter(name="Odd").exists()


def test_owner_and_admins_change_visibility_members_cannot(cast):
    path = f"/groups/{cast.group.pk}/edit/"
    data = {"name": "Team", "description": "Where the team talks.", "visibility": "public"}
    assert client_for(cast.member).post(path, data).status_code == 403
    assert Group.objects.get(pk=cast.group.pk).is_public is False
    assert client_for(cast.admin).post(path, data).status_code == 302
    assert Group.objects.get(pk=cast.group.pk).is_public is True
    # Leaving the field out keeps it as it is.
    assert client_for(cast.owner).post(path, {"name": "Team 2", "description": ""}).status_code == 302
    group = Group.objects.get(pk=cast.group.pk)
    assert (group.name, group.is_public) == ("Team 2", True)
    assert client_for(cast.owner).post(path, {**data, "visibility": "private"}).status_code == 302
    assert Group.objects.get(pk=cast.group.pk).is_public is False


def test_the_edit_form_shows_the_current_visibility(cast, open_group):
    body = client_for(cast.owner).get(f"/groups/{open_group.pk}/").content.decode()
    assert '<input type="radio" name="visibility" value="public" id="id_visibility_1" checked>' in body
    assert '<input type="radio" name="visibility" value="private" id="id_visibility_0">' in body


def test_browse_lists_public_groups_only_with_counts_and_join_buttons(cast, open_group):
    services.group_join(actor=cast.member, group_id=open_group.pk)
    response = client_for(cast.outsider).get("/groups/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Open house" in body and "Everyone welcome" in body and "2 members" in body
    assert f'action="/groups/{open_group.pk}/join/"' in body
    assert "Team" not in body.split("<main", 1)[1]  # the private group is not listed
    # A member sees "Open" instead of "Join".
    mine = client_for(cast.member).get("/groups/").content.decode()
    assert f'href="/groups/{open_group.pk}/"' in mine and f"/groups/{open_group.pk}/join/" not in mine


def test_browse_searches_by_name(cast, open_group):
    services.group_create(actor=cast.owner, name="Book club", is_public=True)
    body = client_for(cast.outsider).get("/groups/", {"q": "BOOK"}).content.decode()
    assert "Book club" in body and "Open house" not in body
    assert 'value="BOOK"' in body
    assert "No public group matches" in client_for(cast.outsider).get("/groups/", {"q": "zzz"}).content.decode()


def test_browse_needs_login(client):
    assert client.get("/groups/").status_code == 302


def test_joining_a_public_group_lands_in_its_chat(cast, open_group):
    response = client_for(cast.outsider).post(f"/groups/{open_group.pk}/join/")
    general = default_conversation(open_group)
    assert response.status_code == 302 and response["Location"] == f"/chats/{general.pk}/"
    assert roles(open_group.pk) == {"olivia": "owner", "nora": "member"}
    # Joining again changes nothing.
    again = client_for(cast.outsider).post(f"/groups/{open_group.pk}/join/")
    assert again.status_code == 302
    assert roles(open_group.pk) == {"olivia": "owner", "nora": "member"}


@pytest.mark.parametrize("which", ["private", "missing"])
def test_joining_a_private_or_missing_group_is_the_same_404_and_changes_nothing(cast, which):
    group_id = cast.group.pk if which == "private" else cast.group.pk + 1000
    before = snapshot(cast.group.pk)
    response = client_for(cast.outsider).post(f"/groups/{group_id}/join/")
    assert response.status_code == 404
    assert "does not exist or you are not a member" in response.content.decode()
    assert snapshot(cast.group.pk) == before


def test_a_member_joining_their_private_group_changes_nothing(cast):
    before = snapshot(cast.group.pk)
    assert client_for(cast.member).post(f"/groups/{cast.group.pk}/join/").status_code == 302
    assert snapshot(cast.group.pk) == before


def test_join_is_post_only_and_needs_csrf_and_login(cast, open_group):
    path = f"/groups/{open_group.pk}/join/"
    assert client_for(cast.outsider).get(path).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.outsider)
    assert strict.post(path).status_code == 403
    assert Client().post(path).status_code == 302  # to the login page
    assert not Membership.objects.filter(group=open_group, user=cast.outsider).exists()


def test_the_empty_chat_list_points_to_the_directories(make_user):
    loner = make_user("loner")
    body = client_for(loner).get("/chats/").content.decode()
    assert 'href="/groups/"' in body and 'href="/people/"' in body and "Browse" in body


def test_new_accounts_join_the_default_groups(cast, open_group, settings):
    settings.DEFAULT_GROUPS = ["open HOUSE", "Team", "No such group"]
    account_services.user_create(username="newbie", email="newbie@example.com", password=PASSWORD)
    assert roles(open_group.pk)["newbie"] == "member"
    assert roles(cast.group.pk)["newbie"] == "member"  # the operator may name private groups too


def test_sign_up_through_the_form_joins_the_default_groups(client, cast, open_group, settings):
    settings.DEFAULT_GROUPS = ["Open house"]
    response = client.post(
        "/accounts/signup/",
        {"username": "fresh", "email": "fresh@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert roles(open_group.pk)["fresh"] == "member"
    assert "fresh" not in roles(cast.group.pk)


def test_without_default_groups_a_new_account_joins_nothing(cast, open_group):
    account_services.user_create(username="newbie", email="newbie@example.com", password=PASSWORD)
    assert not Membership.objects.filter(user__username="newbie").exists()


def test_joining_and_default_groups_are_in_the_audit_log(cast, open_group, settings):
    from audit.models import AuditEvent

    client_for(cast.outsider).post(f"/groups/{open_group.pk}/join/")
    joined = AuditEvent.objects.get(kind="member_add", target_group_id=open_group.pk, target_user_id=cast.outsider.pk)
    assert (joined.actor_id, joined.detail) == (cast.outsider.pk, {"via": "join"})
    settings.DEFAULT_GROUPS = ["Open house"]
    newbie = account_services.user_create(username="newbie", email="newbie@example.com", password=PASSWORD)
    added = AuditEvent.objects.get(kind="member_add", target_group_id=open_group.pk, target_user_id=newbie.pk)
    assert (added.actor_id, added.detail) == (None, {"via": "default_groups"})
