"""export_conversation: the whole history as one JSON document or readable text, streamed."""

import json
import os
import stat

import pytest
from django.core.management.base import CommandError

from accounts.models import User
from groups import services as group_services
from messaging import services as messaging_services
from messaging.management.commands import export_conversation
from messaging.models import Message
from messaging.selectors import default_conversation
from messaging.serializers import DELETED_USER, message_json


@pytest.fixture
def history(alice, bob, carol):
    """A group conversation with an edited, a deleted, a multi-line message and one by a deleted account."""
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob", "carol"])
    conversation = default_conversation(group)
    send = messaging_services.message_send
    send(actor=alice, conversation_id=conversation.pk, body="Hello “team” <b>")
    send(actor=bob, conversation_id=conversation.pk, body="first line\nsecond line")
    send(actor=bob, conversation_id=conversation.pk, body="typo")
    messaging_services.message_edit(actor=bob, conversation_id=conversation.pk, seq=3, body="fixed")
    send(actor=alice, conversation_id=conversation.pk, body="oops")
    messaging_services.message_delete(actor=alice, conversation_id=conversation.pk, seq=4)
    send(actor=carol, conversation_id=conversation.pk, body="bye")
    User.objects.filter(pk=carol.pk).delete()  # author becomes null: "deleted user"
    conversation.refresh_from_db()
    return conversation


@pytest.mark.django_db
def test_json_is_one_document_with_every_message(run_command, history, monkeypatch):
    monkeypatch.setattr(export_conversation, "CHUNK_SIZE", 2)  # several chunks even for a short history
    document = json.loads(run_command("export_conversation", str(history.pk)))
    assert document["conversation"]["id"] == history.pk
    assert document["conversation"]["kind"] == "group"
    assert document["conversation"]["name"] == "general"
    assert document["conversation"]["group"] == {"id": history.group_id, "name": "Team"}
    assert document["conversation"]["last_seq"] == 5
    expected = [message_json(m) for m in Message.objects.filter(conversation=history).order_by("seq")]
    assert document["messages"] == expected
    assert [m["seq"] for m in document["messages"]] == [1, 2, 3, 4, 5]
    assert document["messages"][2]["body"] == "fixed" and document["messages"][2]["edited_at"]
    assert document["messages"][3]["deleted"] is True and document["messages"][3]["body"] == ""
    assert document["messages"][4]["author"] == DELETED_USER


@pytest.mark.django_db
def test_direct_conversation_names_both_sides(run_command, alice, bob):
    direct, _ = messaging_services.direct_open(actor=alice, username="bob")
    document = json.loads(run_command("export_conversation", str(direct.pk)))
    assert document["conversation"]["group"] is None
    assert {p["username"] for p in document["conversation"]["participants"]} == {"alice", "bob"}
    assert document["messages"] == []


@pytest.mark.django_db
def test_text_format(run_command, history):
    lines = run_command("export_conversation", str(history.pk), "--format", "text").splitlines()
    assert lines[0] == f"Team / general (conversation {history.pk})"
    body = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    assert body == [
        "#1 Alice A.: Hello “team” <b>",
        "#2 bob: first line",
        "#3 bob: fixed (edited)",
        "#4 Alice A.: (message deleted)",
        "#5 deleted user: bye",
    ]
    assert "    second line" in lines  # continuation lines are indented under their message


@pytest.mark.django_db
def test_output_file(run_command, history, tmp_path):
    target = tmp_path / "export.json"
    output = run_command("export_conversation", str(history.pk), "--output", str(target))
    assert output.strip() == f"Wrote 5 messages of conversation {history.pk} to {target}."
    assert len(json.loads(target.read_text(encoding="utf-8"))["messages"]) == 5
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600  # private conversations
    assert os.listdir(tmp_path) == ["export.json"]  # no partial file left behind


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "the following arguments are required: ID"),
        (["999999"], "There is no conversation with id 999999."),
        (["general"], "invalid int value"),
        (["{pk}", "--format", "xml"], "invalid choice: 'xml'"),
        (["{pk}", "--output", "/no/such/directory/export.json"], "the directory /no/such/directory does not exist"),
        (["{pk}", "--output", "{tmp}"], "it is a directory"),
    ],
)
def test_bad_arguments(run_command, history, tmp_path, args, error):
    args = [a.format(pk=history.pk, tmp=tmp_path) for a in args]
    with pytest.raises(CommandError, match=error):
        run_command("export_conversation", *args)


def test_help(command_help):
    text = command_help("export_conversation")
    assert "{json,text}" in text and "--output FILE" in text
