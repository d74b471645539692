"""`manage.py export_conversation ID [--format json|text] [--output FILE]`: a conversation's whole history.

Streams: rows come from the database 2000 at a time (`.iterator(chunk_size=…)`)
and each is written out before the next is read, so memory stays flat for a
million messages. JSON output is one valid document:

    {"conversation": {...}, "messages": [<message_json>, ...]}

with each message in the shape of the history endpoint (messaging.serializers).
With --output the file appears only once complete (written next to it, then
renamed), readable by its owner only: it holds private conversations.
"""

import itertools
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from messaging.attachments import load_for_messages
from messaging.models import Conversation, Message
from messaging.serializers import DELETED_USER, message_json, user_json

CHUNK_SIZE = 2000


def conversation_export_json(conversation: Conversation) -> dict[str, Any]:
    """What the export says about the conversation itself; no viewer, so both sides of a direct are named."""
    group = conversation.group
    participants = None
    if conversation.is_direct:
        participants = [user_json(u) or DELETED_USER for u in (conversation.user_low, conversation.user_high)]
    return {
        "id": conversation.pk,
        "kind": conversation.kind,
        "name": conversation.name,
        "group": {"id": group.pk, "name": group.name} if group else None,
        "participants": participants,
        "created_at": conversation.created_at.isoformat(),
        "last_seq": conversation.last_seq,
        "exported_at": timezone.now().isoformat(),
    }


def history(conversation: Conversation) -> Iterator[Message]:
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author")
        .order_by("seq")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def write_json(conversation: Conversation, out: TextIO) -> int:
    out.write('{"conversation": ')
    out.write(json.dumps(conversation_export_json(conversation), ensure_ascii=False))
    out.write(', "messages": [')
    count = 0
    messages = history(conversation)
    while chunk := list(itertools.islice(messages, CHUNK_SIZE)):  # itertools.batched is 3.12+
        for message in load_for_messages(list(chunk)):  # one query for the chunk's attachments
            out.write(",\n" if count else "\n")
            out.write(json.dumps(message_json(message), ensure_ascii=False))
            count += 1
    out.write("\n]}\n")
    return count


def _title(conversation: Conversation) -> str:
    if conversation.is_direct:
        names = [u.name if u else "deleted user" for u in (conversation.user_low, conversation.user_high)]
        return "Direct conversation: " + " and ".join(names)
    return f"{conversation.group.name} / {conversation.name}"


def write_text(conversation: Conversation, out: TextIO) -> int:
    """One block per message: `[time] #seq author: text`, continuation lines indented."""
    out.write(f"{_title(conversation)} (conversation {conversation.pk})\n")
    out.write(f"Exported {timezone.now():%Y-%m-%d %H:%M} UTC\n\n")
    count = 0
    for message in history(conversation):
        author = message.author.name if message.author_id else "deleted user"
        if message.deleted:
            text = "(message deleted)"
        else:
            text = message.body.replace("\r\n", "\n").replace("\n", "\n    ")
            if message.edited_at:
                text += " (edited)"
        out.write(f"[{message.created_at:%Y-%m-%d %H:%M:%S}] #{message.seq} {author}: {text}\n")
        count += 1
    return count


@contextmanager
def _open_output(path: str | None, stdout: TextIO) -> Iterator[TextIO]:
    """stdout, or a temporary file beside `path` that replaces it only when the export completed."""
    if path is None:
        yield stdout
        return
    target = Path(path)
    if not target.parent.is_dir():
        raise CommandError(f"Cannot write {path}: the directory {target.parent} does not exist.")
    if target.is_dir():
        raise CommandError(f"Cannot write {path}: it is a directory.")
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Unbuffered:
    """Django's OutputWrapper adds a newline per write; exports write pieces, so pass them through."""

    def __init__(self, wrapper) -> None:
        self._wrapper = wrapper

    def write(self, text: str) -> None:
        self._wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Write a conversation's whole history (every message, oldest first) as one JSON document or as "
        "readable text, to stdout or a file. Streams, so any size of history fits in constant memory."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("conversation_id", type=int, metavar="ID", help="The conversation's id.")
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=["json", "text"],
            default="json",
            help="json (default) or text (for reading).",
        )
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args, conversation_id: int, fmt: str, output: str | None, **options) -> None:
        conversation = (
            Conversation.objects.select_related("group", "user_low", "user_high").filter(pk=conversation_id).first()
        )
        if conversation is None:
            raise CommandError(f"There is no conversation with id {conversation_id}.")
        writer = write_json if fmt == "json" else write_text
        try:
            with _open_output(output, _Unbuffered(self.stdout)) as out:
                count = writer(conversation, out)
        except BrokenPipeError:  # the reader went away (`| head`): not an error worth a traceback
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return
        if output is not None:
            self.stdout.write(f"Wrote {count} messages of conversation {conversation_id} to {output}.")
