"""A group with one user in every role, plus an outsider, built through the real services."""

import pytest

from groups.models import Group, Membership
from tests.conftest import Cast, build_cast


@pytest.fixture
def cast(make_user) -> Cast:
    """The shared cast (tests/conftest.py) with a second admin (ada) and a newcomer (nick)."""
    return build_cast(make_user, second_admin=True)


def snapshot(group_id: int) -> dict:
    """Everything a refused request must leave untouched."""
    group = Group.objects.filter(pk=group_id).first()
    if group is None:
        return {"exists": False}
    return {
        "exists": True,
        "name": group.name,
        "description": group.description,
        "roles": sorted(
            Membership.objects.filter(group_id=group_id).values_list("user__username", "role"),
        ),
        "conversations": group.conversations.count(),
    }


def roles(group_id: int) -> dict[str, str]:
    return dict(Membership.objects.filter(group_id=group_id).values_list("user__username", "role"))
