"""Django admin for groups: list, search, the members inline, and the one-owner rule."""

import pytest

from accounts.models import User
from tests.conftest import client_for
from tests.groups.conftest import roles


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("root", "root@example.com", "unused-password-123")


def test_changelist_lists_groups_with_member_counts_and_searches(staff, cast):
    client = client_for(staff)
    response = client.get("/admin/groups/group/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Team" in body
    assert '<td class="field-member_count">5</td>' in body

    assert "Team" in client.get("/admin/groups/group/", {"q": "mia"}).content.decode()
    assert "0 results" in client.get("/admin/groups/group/", {"q": "nobody-like-this"}).content.decode()


def test_change_page_shows_members_inline_and_created_time_read_only(staff, cast):
    response = client_for(staff).get(f"/admin/groups/group/{cast.group.pk}/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="memberships-TOTAL_FORMS" value="5"' in body
    assert 'name="created_at"' not in body  # shown, not editable
    assert "Created at" in body


def test_non_staff_cannot_open_the_admin(cast):
    response = client_for(cast.owner).get("/admin/groups/group/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _inline_post(cast, role_of: dict[str, str], *, newest_first: bool = False) -> dict:
    memberships = list(cast.group.memberships.select_related("user").order_by("-pk" if newest_first else "pk"))
    data = {
        "name": cast.group.name,
        "description": cast.group.description,
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(memberships):
        data[f"memberships-{i}-id"] = str(m.pk)
        data[f"memberships-{i}-group"] = str(cast.group.pk)
        data[f"memberships-{i}-user"] = str(m.user_id)
        data[f"memberships-{i}-role"] = role_of.get(m.user.username, m.role)
    return data


def test_admin_refuses_two_owners_with_a_form_error(staff, cast):
    before = roles(cast.group.pk)
    response = client_for(staff).post(
        f"/admin/groups/group/{cast.group.pk}/change/", _inline_post(cast, {"mia": "owner"})
    )
    assert response.status_code == 200  # the admin re-renders its form
    assert "A group with members has exactly one owner." in response.content.decode()
    assert roles(cast.group.pk) == before


@pytest.mark.parametrize("newest_first", [False, True], ids=["old-owner-first", "new-owner-first"])
def test_admin_can_swap_the_owner_in_one_save(staff, cast, newest_first):
    data = _inline_post(cast, {"olivia": "admin", "mia": "owner"}, newest_first=newest_first)
    response = client_for(staff).post(f"/admin/groups/group/{cast.group.pk}/change/", data)
    assert response.status_code == 302
    assert roles(cast.group.pk)["mia"] == "owner"
    assert roles(cast.group.pk)["olivia"] == "admin"


def test_an_existing_member_row_cannot_be_swapped_for_another_user(staff, cast):
    """Swapping the user of a row would remove one member without telling their sockets: remove and add instead."""
    data = _inline_post(cast, {})
    mia_row = next(key for key, value in data.items() if key.endswith("-user") and value == str(cast.member.pk))
    data[mia_row] = str(cast.outsider.pk)
    before = roles(cast.group.pk)
    response = client_for(staff).post(f"/admin/groups/group/{cast.group.pk}/change/", data)
    assert response.status_code == 302
    assert roles(cast.group.pk) == before  # mia is still there, nora was not slipped in


def test_removing_and_adding_members_in_the_admin(staff, cast):
    data = _inline_post(cast, {})
    mia_row = next(key for key, value in data.items() if key.endswith("-user") and value == str(cast.member.pk))
    data[mia_row.replace("-user", "-DELETE")] = "on"
    n = int(data["memberships-TOTAL_FORMS"])
    data |= {f"memberships-{n}-group": str(cast.group.pk), f"memberships-{n}-user": str(cast.newcomer.pk)}
    data[f"memberships-{n}-role"] = "member"
    data["memberships-TOTAL_FORMS"] = str(n + 1)
    response = client_for(staff).post(f"/admin/groups/group/{cast.group.pk}/change/", data)
    assert response.status_code == 302
    after = roles(cast.group.pk)
    assert "mia" not in after and after["nick"] == "member"
