"""prune_messages: old rows go in batches; seqs, last_seq, history and the conversation list keep working."""

import pytest
from django.core.management.base import CommandError

from groups import services as group_services
from messaging import services as messaging_services
from messaging.models import Conversation, Message
from messaging.selectors import default_conversation


@pytest.fixture
def chats(alice, bob, backdate):
    """Two conversations, each with three 40-day-old messages then two recent ones."""
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    general = default_conversation(group)
    direct, _ = messaging_services.direct_open(actor=alice, username="bob")
    for conversation in (general, direct):
        sent = [
            messaging_services.message_send(actor=alice, conversation_id=conversation.pk, body=f"message {n}")[0]
            for n in range(1, 6)
        ]
        backdate(sent[:3], days=40)
    return general, direct


def seqs(conversation) -> list[int]:
    return list(Message.objects.filter(conversation=conversation).order_by("seq").values_list("seq", flat=True))


@pytest.mark.django_db
def test_dry_run_counts_and_deletes_nothing(run_command, chats):
    output = run_command("prune_messages", "--older-than", "30", "--dry-run")
    assert "Dry run: would delete 6 messages older than 30 days" in output
    assert "(2 conversations affected)" in output
    assert Message.objects.count() == 10


@pytest.mark.django_db
def test_one_conversation_in_batches(run_command, chats, alice, alice_client):
    general, direct = chats
    output = run_command("prune_messages", "--older-than", "30", "--conversation", str(general.pk), "--batch-size", "2")
    assert "Deleted 3 messages older than 30 days (before" in output
    assert f"in conversation {general.pk}, in 2 batches of at most 2." in output
    assert seqs(general) == [4, 5]  # the rest keep their numbers
    assert seqs(direct) == [1, 2, 3, 4, 5]  # another conversation is untouched
    general.refresh_from_db()
    assert general.last_seq == 5

    history = alice_client.get(f"/chats/{general.pk}/messages/")
    assert history.status_code == 200
    assert [m["seq"] for m in history.json()["messages"]] == [4, 5]
    assert history.json()["has_more"] is False
    assert alice_client.get(f"/chats/{general.pk}/messages/?before=4").json()["messages"] == []
    # New messages carry on from last_seq, never reusing a pruned number.
    message, _ = messaging_services.message_send(actor=alice, conversation_id=general.pk, body="next")
    assert message.seq == 6


@pytest.mark.django_db
def test_verbose_lists_batches(run_command, chats):
    output = run_command("prune_messages", "--older-than", "30", "--batch-size", "4", verbosity=2)
    assert output.count("  batch ") == 2
    assert "Deleted 6 messages" in output and "in all conversations, in 2 batches of at most 4." in output
    assert Message.objects.count() == 4


@pytest.mark.django_db
def test_whole_history_pruned_leaves_working_pages(run_command, chats, alice_client, backdate):
    general, _direct = chats
    backdate(Message.objects.filter(conversation=general), days=40)
    run_command("prune_messages", "--older-than", "30")
    assert not Message.objects.filter(conversation=general).exists()
    assert Conversation.objects.get(pk=general.pk).last_seq == 5

    page = alice_client.get("/chats/")
    assert page.status_code == 200
    row = page.content.decode().split(f'data-conversation-id="{general.pk}"', 1)[1].split("</li>", 1)[0]
    preview = row.split('class="conversation-preview">', 1)[1].split("</span>", 1)[0]
    assert preview.strip() == ""  # no preview, and no "None"
    assert alice_client.get(f"/chats/{general.pk}/").status_code == 200
    assert alice_client.get(f"/chats/{general.pk}/messages/").json() == {"messages": [], "has_more": False}


@pytest.mark.django_db
def test_nothing_to_prune(run_command, chats):
    output = run_command("prune_messages", "--older-than", "365")
    assert output.startswith("Deleted 0 messages older than 365 days")
    assert Message.objects.count() == 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "the following arguments are required: --older-than"),
        (["--older-than", "0"], "must be 1 or more, got 0"),
        (["--older-than", "-5"], "must be 1 or more, got -5"),
        (["--older-than", "ten"], "expected a whole number, got 'ten'"),
        (["--older-than", "30", "--conversation", "999999"], "There is no conversation with id 999999."),
        (["--older-than", "30", "--conversation", "general"], "invalid int value"),
        (["--older-than", "30", "--batch-size", "0"], "must be 1 or more, got 0"),
    ],
)
def test_bad_arguments(run_command, chats, args, error):
    with pytest.raises(CommandError, match=error):
        run_command("prune_messages", *args)
    assert Message.objects.count() == 10


def test_help(command_help):
    text = command_help("prune_messages")
    assert "--older-than DAYS" in text and "--conversation ID" in text and "--dry-run" in text
