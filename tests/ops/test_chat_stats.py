"""chat_stats: the numbers, labelled, as text and as JSON."""

import json
from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from groups import services as group_services
from messaging import services as messaging_services
from messaging.selectors import default_conversation


@pytest.fixture
def activity(alice, bob, carol, make_user, backdate):
    """alice and bob chat in a group today; carol wrote to alice a week and a half ago; dave is deactivated."""
    dave = make_user("dave")
    User.objects.filter(pk=dave.pk).update(is_active=False)
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["bob", "carol"])
    pair = group_services.group_create(actor=bob, name="Pair", member_usernames=["alice"])
    general = default_conversation(team)
    for author in (alice, bob, alice):
        messaging_services.message_send(actor=author, conversation_id=general.pk, body="hello")
    direct, _ = messaging_services.direct_open(actor=carol, username="alice")
    old, _ = messaging_services.message_send(actor=carol, conversation_id=direct.pk, body="long ago")
    backdate([old], days=10)
    User.objects.filter(pk=alice.pk).update(last_login=timezone.now() - timedelta(hours=2))
    User.objects.filter(pk=bob.pk).update(last_login=timezone.now() - timedelta(days=3))
    return {"team": team, "pair": pair}


@pytest.mark.django_db
def test_json_numbers(run_command, activity, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        stats = json.loads(run_command("chat_stats", "--json"))
    assert stats["users"] == {
        "total": 4,
        "deactivated": 1,
        "sent_messages_24h": 2,
        "sent_messages_7d": 2,
        "logged_in_24h": 1,
        "logged_in_7d": 2,
    }
    assert stats["groups"] == {"total": 2}
    assert stats["conversations"] == {"total": 3, "group": 2, "direct": 1}
    assert stats["messages"] == {"total": 4, "last_24h": 3, "last_7d": 3}
    assert stats["biggest_groups"] == [
        {"id": activity["team"].pk, "name": "Team", "members": 3, "messages": 3},
        {"id": activity["pair"].pk, "name": "Pair", "members": 2, "messages": 0},
    ]


@pytest.mark.django_db
def test_text_says_what_active_means(run_command, activity):
    text = run_command("chat_stats", "--top", "1")
    assert "Users:          4 (1 deactivated)" in text
    assert "sent a message: 2 in the last 24 h, 2 in 7 days" in text
    assert "logged in:      1 in the last 24 h, 2 in 7 days" in text
    assert "Messages:       4 (3 in the last 24 h, 3 in 7 days)" in text
    assert "Team (id" in text and "Pair (id" not in text


@pytest.mark.django_db
def test_empty_site(run_command):
    stats = json.loads(run_command("chat_stats", "--json"))
    assert stats["users"]["total"] == 0 and stats["messages"]["total"] == 0 and stats["biggest_groups"] == []
    assert "Biggest groups" not in run_command("chat_stats")


@pytest.mark.django_db
def test_bad_arguments(run_command):
    with pytest.raises(CommandError, match="--top must be 0 or more"):
        run_command("chat_stats", "--top", "-1")
    with pytest.raises(CommandError, match="invalid int value"):
        run_command("chat_stats", "--top", "many")
    with pytest.raises(CommandError, match="unrecognized arguments"):
        run_command("chat_stats", "--yaml")


def test_help(command_help):
    text = command_help("chat_stats")
    assert "--json" in text and "--top" in text and "logins" in text
