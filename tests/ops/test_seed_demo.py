"""seed_demo: a lively demo through the real services, idempotent, refused on a production setting."""

import re

import pytest
from django.core.management.base import CommandError
from django.db.models import Count, Max

from accounts.models import User
from groups.models import Group, Membership
from messaging.models import Conversation, Message
from tests.conftest import PASSWORD

DEMO_USERNAMES = {"ada", "grace", "alan", "katherine", "linus", "margaret"}


def counts() -> dict[str, int]:
    return {
        "users": User.objects.count(),
        "groups": Group.objects.count(),
        "memberships": Membership.objects.count(),
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
    }


def printed_password(output: str) -> str:
    match = re.search(r"\(shown only now\): (.+)$", output, re.MULTILINE)
    assert match, output
    return match.group(1)


@pytest.mark.django_db
def test_refuses_with_debug_off(run_command, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        run_command("seed_demo")
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_seeds_a_lively_chat_once(run_command, settings, client):
    settings.DEBUG = True
    output = run_command("seed_demo")
    assert set(User.objects.values_list("username", flat=True)) == DEMO_USERNAMES
    assert Group.objects.count() == 3
    assert Conversation.objects.filter(kind=Conversation.Kind.GROUP).count() == 6
    assert Conversation.objects.filter(kind=Conversation.Kind.DIRECT).count() == 3
    assert 200 <= Message.objects.count() <= 500
    # Seqs are what message_send hands out: 1..last_seq, no gaps, and the conversation points at the newest.
    for conversation in Conversation.objects.annotate(n=Count("messages"), top=Max("messages__seq")):
        assert conversation.n == conversation.top == conversation.last_seq
        newest = conversation.messages.order_by("-seq").first()
        assert conversation.last_message_at == newest.created_at
    # Spread over recent days, in seq order, so the chat reads like a real one.
    first = Message.objects.order_by("created_at").first()
    assert (Message.objects.aggregate(Max("created_at"))["created_at__max"] - first.created_at).days >= 2
    engineering = Group.objects.get(name="Engineering")
    assert engineering.memberships.get(role=Membership.Role.OWNER).user.username == "ada"
    assert engineering.memberships.get(user__username="grace").role == Membership.Role.ADMIN

    # The printed password works, once; the next run prints none and creates nothing.
    password = printed_password(output)
    assert client.post("/accounts/login/", {"username": "ada", "password": password}).status_code == 302
    assert client.get("/chats/").status_code == 200
    before = counts()
    again = run_command("seed_demo")
    assert counts() == before
    assert "shown only now" not in again
    assert "already existed" in again
    assert "(0 new)" in again


@pytest.mark.django_db
def test_force_password_and_reset(run_command, settings, client):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="at least 12 characters"):
        run_command("seed_demo", "--force", "--password", "short")
    output = run_command("seed_demo", "--force", "--password", PASSWORD)
    assert printed_password(output) == PASSWORD
    assert client.login(username="grace", password=PASSWORD)
    reset = run_command("seed_demo", "--force", "--reset-password")
    new_password = printed_password(reset)
    assert new_password != PASSWORD
    assert not client.login(username="grace", password=PASSWORD)
    assert client.login(username="grace", password=new_password)


@pytest.mark.django_db
def test_does_not_seed_around_a_deactivated_demo_user(run_command, settings, make_user):
    settings.DEBUG = True
    user = make_user("linus")
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        run_command("seed_demo")
    assert Group.objects.count() == 0  # all or nothing


def test_help(command_help):
    text = command_help("seed_demo")
    assert "--force" in text and "--password" in text and "--reset-password" in text
