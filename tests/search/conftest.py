"""Fixtures of the search tests: a team group (olivia owns it, mia is a member), an outsider
(nora), and `say` to store messages through the real service."""

from dataclasses import dataclass

import pytest

from accounts.models import User
from groups import services as group_services
from groups.models import Group
from messaging import services as messaging_services
from messaging.models import Conversation, Message
from messaging.selectors import default_conversation


@dataclass
class Team:
    group: Group
    general: Conversation
    owner: User  # olivia
    member: User  # mia
    outsider: User  # nora: logged in, in no group


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(make_user) -> Team:
    users = {name: make_user(name, display_name=name.title()) for name in ("olivia", "mia", "nora")}
    group = group_services.group_create(actor=users["olivia"], name="Team", member_usernames=["mia"])
    return Team(
        group=group,
        general=default_conversation(group),
        owner=users["olivia"],
        member=users["mia"],
        outsider=users["nora"],
    )


@pytest.fixture
def say():
    """`say(user, conversation, body)` → the stored message."""

    def send(user: User, conversation: Conversation, body: str) -> Message:
        message, _created = messaging_services.message_send(actor=user, conversation_id=conversation.pk, body=body)
        return message

    return send


@pytest.fixture
def search(login):
    """`search(user, q, **params)` → the JSON endpoint's answer (status, body)."""

    def run(user: User | None, q: str | None = None, **params):
        if q is not None:
            params["q"] = q
        response = login(user).get("/search/messages/", params)
        return response.status_code, response.json()

    return run


@pytest.fixture
def found(search):
    """`found(user, q, **params)` → the bodies of the results, in order (asserting a 200)."""

    def run(user: User, q: str, **params) -> list[str]:
        status, data = search(user, q, **params)
        assert status == 200, data
        return [r["message"]["body"] for r in data["results"]]

    return run
