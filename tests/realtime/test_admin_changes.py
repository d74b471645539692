"""Changes made by staff in the Django admin reach open sockets at once, as the members' own changes do."""

import pytest
from django.test import Client

from accounts.models import User
from groups.models import Membership
from messaging import protocol, services
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a password set by staff 7"


def staff_client() -> Client:
    staff = User.objects.create_superuser("root", "root@example.com", "unused-password-123")
    client = Client()
    client.force_login(staff)
    return client


def inline_post(group, *, remove: set[int] = frozenset(), add: list[tuple[int, str]] = ()) -> dict:
    """The group's change form as the admin page posts it: every member row, some marked for deletion."""
    memberships = list(Membership.objects.filter(group=group).order_by("pk"))
    rows = len(memberships) + len(add)
    data = {
        "name": group.name,
        "description": group.description,
        "memberships-TOTAL_FORMS": str(rows),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": str(m.pk),
            f"memberships-{i}-group": str(group.pk),
            f"memberships-{i}-user": str(m.user_id),
            f"memberships-{i}-role": m.role,
        }
        if m.user_id in remove:
            data[f"memberships-{i}-DELETE"] = "on"
    for j, (user_id, role) in enumerate(add, start=len(memberships)):
        data |= {f"memberships-{j}-group": str(group.pk), f"memberships-{j}-user": str(user_id)}
        data[f"memberships-{j}-role"] = role
    return data


def admin_post(url: str, data: dict) -> int:
    return staff_client().post(url, data).status_code


def post_members(group, **changes) -> int:
    """Post the group's admin change form with these member changes; the status."""
    return admin_post(f"/admin/groups/group/{group.pk}/change/", inline_post(group, **changes))


async def test_a_member_removed_in_the_admin_stops_receiving_at_once(connect, team):
    alice, bob = await connect(team.alice), await connect(team.bob)
    assert await call(post_members)(team.group, remove={team.bob.pk}) == 302
    assert not await call(Membership.objects.filter(user=team.bob, group=team.group).exists)()

    assert await bob.expect("conversation.removed") == {"type": "conversation.removed", "conversation": team.general.pk}
    await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "after", "client_id": "a"})
    await alice.expect("message.ack")
    await alice.send({"type": "typing", "conversation": team.general.pk})
    assert await bob.nothing()  # neither message.new nor typing


async def test_a_member_added_in_the_admin_receives_at_once(connect, team):
    carol = await connect(team.carol)
    assert await call(post_members)(team.group, add=[(team.carol.pk, "member")]) == 302
    added = await carol.expect("conversation.added")
    assert added["conversation"]["id"] == team.general.pk
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="welcome")
    assert (await carol.expect("message.new"))["message"]["body"] == "welcome"


async def test_a_group_deleted_in_the_admin_is_removed_from_open_sockets(connect, team):
    bob = await connect(team.bob)
    url = f"/admin/groups/group/{team.group.pk}/delete/"
    assert await call(admin_post)(url, {"post": "yes"}) == 302
    assert (await bob.expect("conversation.removed"))["conversation"] == team.general.pk


async def test_an_admin_password_change_closes_the_users_sockets(connect, team):
    bob, other_tab, alice = await connect(team.bob), await connect(team.bob), await connect(team.alice)
    url = f"/admin/accounts/user/{team.bob.pk}/password/"
    data = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    assert await call(admin_post)(url, data) == 302
    assert (await call(User.objects.get)(pk=team.bob.pk)).check_password(NEW_PASSWORD)

    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert await other_tab.closed_with() == protocol.CLOSE_SESSION_ENDED
    await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "still", "client_id": "x"})
    await alice.expect("message.ack")  # other users' sockets stay


async def test_deactivating_a_user_in_the_admin_closes_their_sockets(connect, team):
    bob = await connect(team.bob)
    url = f"/admin/accounts/user/{team.bob.pk}/change/"

    # The user's change form with "Active" unticked (an unticked box is simply not posted).
    data = {"username": "bob", "email": "bob@example.com", "first_name": "", "last_name": "", "display_name": ""}
    assert await call(admin_post)(url, data) == 302
    assert not (await call(User.objects.get)(pk=team.bob.pk)).is_active
    assert await bob.closed_with() == protocol.CLOSE_SESSION_ENDED


async def test_a_display_name_or_username_changed_in_the_admin_reaches_open_pages(connect, team):
    alice = await connect(team.alice)
    staff = await call(staff_client)()
    url = f"/admin/accounts/user/{team.bob.pk}/change/"
    data = {"username": "bob", "email": "bob@example.com", "is_active": "on", "display_name": "Robert"}

    def post(changes: dict) -> int:
        return staff.post(url, data | changes).status_code

    assert await call(post)({}) == 302
    assert (await alice.expect("user.updated"))["user"] == {
        "id": team.bob.pk,
        "username": "bob",
        "display_name": "Robert",
        "avatar_url": None,
    }
    assert await call(post)({"username": "bobby"}) == 302
    assert (await alice.expect("user.updated"))["user"]["username"] == "bobby"
    assert await call(post)({"username": "bobby", "first_name": "Rob"}) == 302
    assert await alice.nothing()  # nothing others see changed
