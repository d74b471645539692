"""A group with one user in every role, plus an outsider, built through the real services."""

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import User
from groups import services
from groups.models import Group, Membership


@dataclass
class Cast:
    group: Group
    owner: User  # olivia
    admin: User  # adam
    other_admin: User  # ada
    member: User  # mia
    other_member: User  # max
    outsider: User  # nora, logged in but not in the group
    newcomer: User  # nick, someone to add


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests log users in with force_login; a slow password hash only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(make_user) -> Cast:
    users = {
        name: make_user(name, display_name=name.title())
        for name in ("olivia", "adam", "ada", "mia", "max", "nora", "nick")
    }
    group = services.group_create(
        actor=users["olivia"],
        name="Team",
        description="Where the team talks.",
        member_usernames=["adam", "ada", "mia", "max"],
    )
    for name in ("adam", "ada"):
        services.member_set_role(actor=users["olivia"], group_id=group.pk, username=name, role="admin")
    return Cast(
        group=group,
        owner=users["olivia"],
        admin=users["adam"],
        other_admin=users["ada"],
        member=users["mia"],
        other_member=users["max"],
        outsider=users["nora"],
        newcomer=users["nick"],
    )


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


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
