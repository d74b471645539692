"""Missed-message email, through the production queue and a real SMTP server: a direct message unread for
MISSED_MESSAGE_DELAY is mailed once, batched; nothing for what was read meanwhile, or when switched off."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from groups import services as group_services
from messaging import services
from messaging.models import Message, MissedMessageNotice
from messaging.selectors import default_conversation
from tests.conftest import send

MINUTES = 10


@pytest.fixture
def direct(alice, bob, database_tasks, settings):
    settings.MISSED_MESSAGE_DELAY = MINUTES * 60
    conversation, _ = services.direct_open(actor=alice, username="bob")
    return conversation


def time_passes(minutes: float) -> None:
    """Move every stored time back, as if `minutes` went by: messages, schedules, and the queued jobs."""
    delta = timedelta(minutes=minutes)
    Message.objects.update(created_at=F("created_at") - delta)
    MissedMessageNotice.objects.update(
        covered_until=F("covered_until") - delta,
        scheduled_for=F("scheduled_for") - delta,
        last_sent_at=F("last_sent_at") - delta,
    )
    DBTaskResult.objects.filter(status="READY").update(run_after=F("run_after") - delta)


def test_unread_direct_messages_are_mailed_once_in_one_batch(alice, bob, direct, mailbox, run_worker):
    send(alice, direct, "Are you coming tonight?")
    send(alice, direct, "We start at eight.")
    assert DBTaskResult.objects.filter(task_path="messaging.missed.missed_messages_mail").count() == 1

    time_passes(MINUTES - 1)
    run_worker()
    assert mailbox.messages == []  # not yet ten minutes

    time_passes(2)
    run_worker()
    run_worker()  # the mail job the check queued
    (mail,) = mailbox.messages
    assert mail["To"] == "bob@example.com"
    assert mail["Subject"] == "2 unread messages on Chatsite"
    text = mailbox.text(mail)
    assert "From Alice A." in text
    assert "Are you coming tonight?" in text and "We start at eight." in text
    assert f"http://testserver/chats/{direct.pk}/" in text
    assert "/accounts/unsubscribe/" in mail["List-Unsubscribe"]

    time_passes(MINUTES * 3)
    run_worker()
    assert len(mailbox.messages) == 1  # never twice for the same messages


def test_messages_read_meanwhile_are_not_mailed(alice, bob, direct, mailbox, run_worker):
    send(alice, direct, "one")
    second = send(alice, direct, "two")
    services.read_mark(actor=bob, conversation_id=direct.pk, seq=second.seq)
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    assert mailbox.messages == []


def test_only_what_is_still_unread_is_mailed(alice, bob, direct, mailbox, run_worker):
    first = send(alice, direct, "old news")
    services.read_mark(actor=bob, conversation_id=direct.pk, seq=first.seq)
    send(alice, direct, "fresh news")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    (mail,) = mailbox.messages
    assert "fresh news" in mailbox.text(mail) and "old news" not in mailbox.text(mail)


def test_at_most_one_mail_per_delay_and_later_messages_get_their_own(alice, bob, direct, mailbox, run_worker):
    send(alice, direct, "first")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    assert len(mailbox.messages) == 1

    send(alice, direct, "second")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    assert len(mailbox.messages) == 2
    assert "second" in mailbox.text(mailbox.messages[1]) and "first" not in mailbox.text(mailbox.messages[1])


def test_group_messages_and_your_own_are_not_mailed(alice, bob, direct, mailbox, run_worker):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    send(alice, default_conversation(group), "to the group")
    send(bob, direct, "bob writes")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    assert mailbox.to("bob@example.com") == []
    (mail,) = mailbox.to("alice@example.com")  # alice did not read bob's direct message
    assert "bob writes" in mailbox.text(mail)


def test_the_setting_turns_it_off(alice, bob, direct, mailbox, run_worker):
    bob_client = Client()
    bob_client.force_login(bob)
    response = bob_client.post("/accounts/settings/", {"action": "notifications"})  # checkbox unticked
    assert response.status_code == 302
    assert not User.objects.get(pk=bob.pk).missed_message_email
    send(alice, direct, "hello?")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    assert mailbox.messages == []
    bob_client.post("/accounts/settings/", {"action": "notifications", "missed_message_email": "on"})
    assert User.objects.get(pk=bob.pk).missed_message_email


def test_the_unsubscribe_link_works_without_logging_in(alice, bob, direct, mailbox, run_worker):
    send(alice, direct, "hello?")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    link = mailbox.messages[0]["List-Unsubscribe"].strip().strip("<>").removeprefix("http://testserver")
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.get(link).status_code == 200
    assert User.objects.get(pk=bob.pk).missed_message_email  # a GET (a link scanner) changes nothing
    assert anonymous.post(link).status_code == 200
    assert not User.objects.get(pk=bob.pk).missed_message_email
    assert anonymous.post(link.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 400


def test_nothing_is_scheduled_for_sends_when_one_check_is_already_queued(alice, bob, direct, mailbox):
    for n in range(5):
        send(alice, direct, f"message {n}")
    assert DBTaskResult.objects.filter(task_path="messaging.missed.missed_messages_mail").count() == 1


def test_a_mention_in_a_group_is_mailed_like_a_direct_message(alice, bob, direct, mailbox, run_worker):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    send(alice, default_conversation(group), "just chatting")
    send(alice, default_conversation(group), "@bob can you review this?")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    (mail,) = mailbox.to("bob@example.com")
    text = mailbox.text(mail)
    assert "can you review this?" in text and "just chatting" not in text


def test_a_mention_added_by_an_edit_is_mailed_like_one_sent(alice, bob, direct, mailbox, run_worker):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    general = default_conversation(group)
    message = send(alice, general, "can someone review this?")
    assert not DBTaskResult.objects.exists()  # no mention yet: nothing to tell bob
    services.message_edit(actor=alice, conversation_id=general.pk, seq=message.seq, body="@bob can you review this?")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    (mail,) = mailbox.to("bob@example.com")
    assert "can you review this?" in mailbox.text(mail)


def test_nothing_is_mailed_for_a_muted_conversation(alice, bob, direct, mailbox, run_worker):
    services.conversation_mute_toggle(actor=bob, conversation_id=direct.pk)
    send(alice, direct, "muted news")
    time_passes(MINUTES + 1)
    run_worker()
    run_worker()
    assert mailbox.to("bob@example.com") == []
