"""`manage.py prune_messages --older-than DAYS [--conversation ID] [--dry-run]`: a retention policy.

Deletes the rows of messages older than DAYS, in short transactions of at most
--batch-size rows chosen by primary-key range, so writers in other processes
wait at most one batch for a lock instead of the whole run.

What stays as it was: the seq of every remaining message, each conversation's
`last_seq` (new messages keep counting from it) and read markers. History and
sync simply have fewer rows; a conversation whose newest message was pruned
shows no preview in the list. The files of pruned messages are deleted with them.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chatsite import retention
from chatsite.retention import delete_in_batches, older_than
from messaging.attachments import delete_for_messages
from messaging.models import Conversation, Message


class Command(BaseCommand):
    help = (
        "Delete messages older than DAYS days (all conversations, or one), in batches of short transactions. "
        "Remaining messages keep their seq numbers. Use --dry-run first to see how many would go."
    )

    def add_arguments(self, parser) -> None:
        retention.add_arguments(parser, days_flag="--older-than", rows="messages")
        parser.add_argument("--conversation", type=int, metavar="ID", help="Only this conversation.")

    def handle(self, *args, conversation: int | None, dry_run: bool, batch_size: int, **options) -> None:
        days = options["older_than"]
        cutoff = timezone.now() - timedelta(days=days)
        old = Message.objects.filter(created_at__lt=cutoff)
        where = "in all conversations"
        if conversation is not None:
            if not Conversation.objects.filter(pk=conversation).exists():
                raise CommandError(f"There is no conversation with id {conversation}.")
            old = old.filter(conversation_id=conversation)
            where = f"in conversation {conversation}"
        since = older_than(days, cutoff)

        if dry_run:
            count = old.count()
            conversations = old.values("conversation").distinct().count()
            self.stdout.write(
                f"Dry run: would delete {count} messages {since} {where} "
                f"({conversations} conversation{'s' if conversations != 1 else ''} affected)."
            )
            return

        def report(number: int, count: int, first: int, last: int) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(f"  batch {number}: deleted {count} (ids {first}..{last})")

        # Their files go with them: rows in the batch's transaction, stored bytes after its commit.
        deleted, batches = delete_in_batches(old, batch_size, before_delete=delete_for_messages, on_batch=report)
        self.stdout.write(f"Deleted {deleted} messages {since} {where}, in {batches} batches of at most {batch_size}.")
