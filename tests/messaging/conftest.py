"""Fixtures of the messaging tests: a group with one user in each role, and an outsider.

Everything is built through the real services; clients are logged in with force_login.
"""

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.models import User
from groups import services as group_services
from groups.models import Group
from messaging.models import Conversation


@dataclass
class Team:
    group: Group
    general: Conversation
    owner: User  # olivia
    admin: User  # adam
    member: User  # mia
    other_member: User  # max
    outsider: User  # nora: logged in, not in the group


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created through the real service; a slow hash only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(make_user) -> Team:
    users = {name: make_user(name, display_name=name.title()) for name in ("olivia", "adam", "mia", "max", "nora")}
    group = group_services.group_create(actor=users["olivia"], name="Team", member_usernames=["adam", "mia", "max"])
    group_services.member_set_role(actor=users["olivia"], group_id=group.pk, username="adam", role="admin")
    return Team(
        group=group,
        general=group_services.default_conversation(group),
        owner=users["olivia"],
        admin=users["adam"],
        member=users["mia"],
        other_member=users["max"],
        outsider=users["nora"],
    )


@pytest.fixture
def login():
    """`login(user)` → a test client with that user's session (None: anonymous)."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def media(settings, tmp_path):
    """Attachments on a fresh folder (the file system storage), returned as a Path."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
        },
    }
    return tmp_path / "media"
