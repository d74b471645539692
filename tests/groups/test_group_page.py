"""The group page: what each role sees, action errors, flashes, and a constant number of queries."""

import re

import pytest

from groups import services
from groups.models import Group, Membership
from messaging.selectors import default_conversation
from tests.conftest import client_for
from tests.groups.conftest import roles, snapshot


def page(client, group_id) -> str:
    response = client.get(f"/groups/{group_id}/")
    assert response.status_code == 200
    return response.content.decode()


def test_page_shows_name_description_members_roles_and_conversations(cast):
    topic = cast.group.conversations.create(kind="group", name="planning")
    body = page(client_for(cast.member), cast.group.pk)
    assert "<h1>Team</h1>" in body
    assert "Where the team talks." in body
    for name in ("Olivia", "Adam", "Ada", "Mia", "Max"):
        assert name in body
    assert body.count('class="role role-owner"') == 1
    assert body.count('class="role role-admin"') == 2
    assert body.count('class="role role-member"') == 2
    general = default_conversation(cast.group)
    assert f'href="/chats/{general.pk}/"># general</a>' in body
    assert f'href="/chats/{topic.pk}/"># planning</a>' in body
    assert f'action="/groups/{cast.group.pk}/conversations/new/"' in body
    assert '<label for="new-topic-name">' in body


def test_owner_is_listed_first(cast):
    body = page(client_for(cast.member), cast.group.pk)
    assert body.index("@olivia") < body.index("@adam") < body.index("@mia")


def test_member_sees_no_management_controls(cast):
    body = page(client_for(cast.member), cast.group.pk)
    g = cast.group.pk
    for action in ("members/", "edit/", "transfer/", "remove/", "role/"):
        assert f'action="/groups/{g}/{action}' not in body
        assert f'href="/groups/{g}/{action}' not in body
    assert f'href="/groups/{g}/delete/"' not in body
    assert f'href="/groups/{g}/leave/"' in body


def test_admin_manages_members_but_not_admins_the_owner_or_ownership(cast):
    body = page(client_for(cast.admin), cast.group.pk)
    g = cast.group.pk
    assert f'action="/groups/{g}/members/"' in body
    assert f'action="/groups/{g}/edit/"' in body
    assert f'href="/groups/{g}/members/max/remove/"' in body
    assert f'href="/groups/{g}/members/mia/remove/"' in body
    for username in ("olivia", "ada", "adam"):
        assert f"/members/{username}/remove/" not in body
    assert "/role/" not in body
    assert f'action="/groups/{g}/transfer/"' not in body
    assert f'href="/groups/{g}/delete/"' not in body


def test_owner_sees_every_control_except_leaving(cast):
    body = page(client_for(cast.owner), cast.group.pk)
    g = cast.group.pk
    for username in ("adam", "ada", "mia", "max"):
        assert f'href="/groups/{g}/members/{username}/remove/"' in body
        assert f'action="/groups/{g}/members/{username}/role/"' in body
    assert "/members/olivia/" not in body
    assert f'action="/groups/{g}/transfer/"' in body
    # The new owner is typed (username or display name), with suggestions when scripts run.
    assert re.search(
        r'<input type="text" name="username"[^>]*data-people-picker="one"[^>]*id="id_transfer_username"', body
    )
    assert f'href="/groups/{g}/delete/"' in body
    assert f'href="/groups/{g}/leave/"' not in body
    assert "Transfer ownership to another member before leaving." in body


def test_success_redirects_with_a_flash(cast):
    client = client_for(cast.admin)
    response = client.post(f"/groups/{cast.group.pk}/members/", {"username": "NICK"}, follow=True)
    assert response.redirect_chain == [(f"/groups/{cast.group.pk}/", 302)]
    assert "Added Nick to the group." in response.content.decode()
    assert roles(cast.group.pk)["nick"] == "member"


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("members/", {"username": "ghost"}, "There is no user named “ghost”."),
        ("members/", {"username": "mia"}, "mia is already a member."),
        ("members/", {"username": ""}, "This field is required."),
        ("members/nora/remove/", {}, "nora is not a member of this group."),
        ("members/max/role/", {"role": "owner"}, "Select a valid choice."),
        ("members/max/role/", {}, "This field is required."),
        ("edit/", {"name": "  ", "description": "x"}, "This field is required."),
        ("edit/", {"name": "n" * 81}, "at most 80 characters"),
        ("transfer/", {"username": "nora"}, "nora is not a member of this group."),
        ("transfer/", {"username": "olivia"}, "You already own this group."),
        ("members/olivia/remove/", {}, "To leave the group, use Leave."),
    ],
)
def test_bad_input_rerenders_the_page_with_the_error_and_changes_nothing(cast, path, data, message):
    before = snapshot(cast.group.pk)
    response = client_for(cast.owner).post(f"/groups/{cast.group.pk}/{path}", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "<h1>Team</h1>" in body  # the group page, not a bare error page
    assert snapshot(cast.group.pk) == before


def test_bad_input_keeps_what_was_typed(cast):
    response = client_for(cast.owner).post(
        f"/groups/{cast.group.pk}/edit/", {"name": "", "description": "Half-written thought"}
    )
    assert response.status_code == 400
    assert ">\nHalf-written thought</textarea>" in response.content.decode()


def test_forbidden_explains_itself(cast):
    response = client_for(cast.admin).post(f"/groups/{cast.group.pk}/members/ada/remove/")
    assert response.status_code == 403
    assert "Only the owner can remove an admin." in response.content.decode()


def test_transfer_leaves_exactly_one_owner_and_keeps_the_old_owner_as_admin(cast):
    response = client_for(cast.owner).post(f"/groups/{cast.group.pk}/transfer/", {"username": "mia"}, follow=True)
    assert "Mia now owns the group. You stay on as an admin." in response.content.decode()
    assert list(Membership.objects.filter(group=cast.group, role="owner").values_list("user__username", flat=True)) == [
        "mia"
    ]
    assert roles(cast.group.pk)["olivia"] == "admin"
    # The powers moved with the role.
    assert client_for(cast.owner).post(f"/groups/{cast.group.pk}/delete/").status_code == 403
    assert client_for(cast.member).get(f"/groups/{cast.group.pk}/delete/").status_code == 200
    assert client_for(cast.owner).post(f"/groups/{cast.group.pk}/leave/").status_code == 302
    assert "olivia" not in roles(cast.group.pk)


def test_owner_cannot_leave_and_is_told_why(cast):
    response = client_for(cast.owner).post(f"/groups/{cast.group.pk}/leave/")
    assert response.status_code == 403
    assert "Transfer ownership to another member before leaving." in response.content.decode()
    assert roles(cast.group.pk)["olivia"] == "owner"


def test_member_leaves_and_loses_the_group(cast):
    client = client_for(cast.member)
    response = client.post(f"/groups/{cast.group.pk}/leave/", follow=True)
    assert response.redirect_chain[0] == ("/chats/", 302)
    assert "You left the group." in response.content.decode()
    assert "mia" not in roles(cast.group.pk)
    assert client.get(f"/groups/{cast.group.pk}/").status_code == 404


def test_delete_asks_first_then_deletes(cast):
    client = client_for(cast.owner)
    confirm = client.get(f"/groups/{cast.group.pk}/delete/")
    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "Delete “Team”?" in body
    assert "5 members" in body
    assert f'action="/groups/{cast.group.pk}/delete/"' in body
    assert f'href="/groups/{cast.group.pk}/">Cancel</a>' in body
    assert Group.objects.filter(pk=cast.group.pk).exists()  # looking is harmless

    response = client.post(f"/groups/{cast.group.pk}/delete/", follow=True)
    assert response.redirect_chain[0] == ("/chats/", 302)
    assert "Group deleted." in response.content.decode()
    assert not Group.objects.filter(pk=cast.group.pk).exists()
    assert client.get(f"/groups/{cast.group.pk}/").status_code == 404


def test_removed_member_loses_access(cast):
    client_for(cast.admin).post(f"/groups/{cast.group.pk}/members/max/remove/")
    assert client_for(cast.other_member).get(f"/groups/{cast.group.pk}/").status_code == 404


def test_page_escapes_user_text(make_user, cast):
    client = client_for(cast.owner)
    client.post(f"/groups/{cast.group.pk}/edit/", {"name": "<b>bold</b>", "description": "<script>x</script>"})
    body = page(client, cast.group.pk)
    assert "<script>x" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body


@pytest.mark.parametrize("size", [1, 50])
def test_group_page_queries_do_not_grow_with_members(make_user, django_assert_max_num_queries, size):
    owner = make_user("owner")
    others = [make_user(f"user{i:02d}") for i in range(size - 1)]
    group = services.group_create(actor=owner, name="Big", member_usernames=[u.username for u in others])
    for user in others[:3]:
        services.member_set_role(actor=owner, group_id=group.pk, username=user.username, role="admin")
    group.conversations.create(kind="group", name="second")
    client = client_for(owner)
    with django_assert_max_num_queries(5):
        response = client.get(f"/groups/{group.pk}/")
    assert response.status_code == 200
    assert response.content.decode().count('class="member-row"') == size


def test_error_page_links_back_only_to_this_site(cast):
    client = client_for(cast.admin)
    path = f"/groups/{cast.group.pk}/members/olivia/remove/"
    same_site = client.post(path, HTTP_REFERER=f"http://testserver/groups/{cast.group.pk}/")
    elsewhere = client.post(path, HTTP_REFERER="https://evil.example/phish")
    assert same_site.status_code == elsewhere.status_code == 403
    assert f'href="http://testserver/groups/{cast.group.pk}/">Go back</a>' in same_site.content.decode()
    assert "evil.example" not in elsewhere.content.decode()
