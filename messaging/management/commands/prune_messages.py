"""`manage.py prune_messages --older-than DAYS [--conversation ID] [--dry-run]`: a retention policy.

Deletes the rows of messages older than DAYS, in short transactions of at most
--batch-size rows chosen by primary-key range, so writers in other processes
wait at most one batch for a lock instead of the whole run.

What stays as it was: the seq of every remaining message, each conversation's
`last_seq` (new messages keep counting from it) and read markers. History and
sync simply have fewer rows; a conversation whose newest message was pruned
shows no preview in the list. The files of pruned messages are deleted with them.
"""

import argparse
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from messaging.attachments import delete_for_messages
from messaging.models import Conversation, Message


def _positive(value: str) -> int:
    """argparse type: a whole number of at least 1, with a message that says so."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


class Command(BaseCommand):
    help = (
        "Delete messages older than DAYS days (all conversations, or one), in batches of short transactions. "
        "Remaining messages keep their seq numbers. Use --dry-run first to see how many would go."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than", type=_positive, required=True, metavar="DAYS", help="Delete messages older than DAYS days."
        )
        parser.add_argument("--conversation", type=int, metavar="ID", help="Only this conversation.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")
        parser.add_argument("--batch-size", type=_positive, default=1000, help="Rows per transaction (default 1000).")

    def handle(
        self, *args, older_than: int, conversation: int | None, dry_run: bool, batch_size: int, **options
    ) -> None:
        cutoff = timezone.now() - timedelta(days=older_than)
        old = Message.objects.filter(created_at__lt=cutoff)
        where = "in all conversations"
        if conversation is not None:
            if not Conversation.objects.filter(pk=conversation).exists():
                raise CommandError(f"There is no conversation with id {conversation}.")
            old = old.filter(conversation_id=conversation)
            where = f"in conversation {conversation}"
        since = f"older than {older_than} day{'s' if older_than != 1 else ''} (before {cutoff:%Y-%m-%d %H:%M} UTC)"

        if dry_run:
            count = old.count()
            conversations = old.values("conversation").distinct().count()
            self.stdout.write(
                f"Dry run: would delete {count} messages {since} {where} "
                f"({conversations} conversation{'s' if conversations != 1 else ''} affected)."
            )
            return

        deleted, batches = self._delete_in_batches(old, batch_size, verbose=options["verbosity"] >= 2)
        self.stdout.write(f"Deleted {deleted} messages {since} {where}, in {batches} batches of at most {batch_size}.")

    def _delete_in_batches(self, old, batch_size: int, *, verbose: bool) -> tuple[int, int]:
        """Walk the matching primary keys upwards, deleting one key range per transaction."""
        deleted = batches = 0
        after = 0
        while True:
            keys = list(old.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not keys:
                return deleted, batches
            first, last = keys[0], keys[-1]
            with transaction.atomic():
                # The same filter again: rows inside the key range that are not old (or in another
                # conversation) stay.
                batch = old.filter(pk__gte=first, pk__lte=last)
                delete_for_messages(batch)  # their files: rows now, stored bytes after the commit
                _total, per_model = batch.delete()
            count = per_model.get(Message._meta.label, 0)
            deleted += count
            batches += 1
            after = last
            if verbose:
                self.stdout.write(f"  batch {batches}: deleted {count} (ids {first}..{last})")
