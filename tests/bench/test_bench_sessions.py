"""bench_sessions: bench users in groups with live session cookies, refused on a production setting."""

import json

import pytest
from django.core.management.base import CommandError
from django.test import Client

from accounts.models import User
from groups.models import Group, Membership
from messaging.models import Message
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_refuses_with_debug_off(run_command, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run_command("bench_sessions", "--prefix", "bx", "--groups", "1", "--members", "2")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_groups_sessions_and_messages(run_command, settings, bob):
    settings.DEBUG = False
    plan = json.loads(
        run_command("bench_sessions", "--prefix", "bx", "--groups", "2", "--members", "3", "--messages", "4", "--force")
    )
    assert len(plan["conversations"]) == 2
    assert len(plan["clients"]) == 6
    assert Group.objects.count() == 2
    assert Membership.objects.filter(role=Membership.Role.OWNER).count() == 2
    assert Message.objects.count() == 8
    first = plan["conversations"][0]
    assert Message.objects.filter(conversation_id=first).order_by("seq").last().seq == 4

    # Each cookie is a working login for a member of its conversation, and nobody else's conversation.
    client = Client()
    client.cookies.load(plan["clients"][0]["cookie"])
    assert plan["clients"][0]["conversations"] == [first]
    assert client.get(f"/chats/{first}/").status_code == 200
    assert client.get(f"/chats/{plan['conversations'][1]}/").status_code == 404
    response = client.get(f"/chats/{first}/messages/")
    assert response.status_code == 200

    # The bench users cannot be logged in to with a password.
    user = User.objects.get(username="bx-0-0")
    assert not user.has_usable_password()
    anonymous = Client()
    assert anonymous.get(f"/chats/{first}/").status_code in (302, 404)
    assert not anonymous.login(username="bx-0-0", password=PASSWORD)


@pytest.mark.django_db
def test_refuses_a_used_prefix_and_bad_sizes(run_command, settings):
    settings.DEBUG = True
    run_command("bench_sessions", "--prefix", "bx", "--groups", "1", "--members", "2")
    with pytest.raises(CommandError, match="prefix"):
        run_command("bench_sessions", "--prefix", "bx", "--groups", "1", "--members", "2")
    with pytest.raises(CommandError, match="at least"):
        run_command("bench_sessions", "--prefix", "by", "--groups", "0", "--members", "2")
    assert User.objects.count() == 2
