"""`manage.py prune_audit --days DAYS [--dry-run]`: the audit log's retention policy.

Deletes audit events older than DAYS days, in short transactions of at most
--batch-size rows chosen by primary-key range, so logins and other writers in
other processes never wait on one long delete.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.models import AuditEvent
from chatsite import retention
from chatsite.retention import delete_in_batches, older_than


class Command(BaseCommand):
    help = (
        "Delete audit events older than DAYS days, in batches of short transactions. "
        "Use --dry-run first to see how many would go."
    )

    def add_arguments(self, parser) -> None:
        retention.add_arguments(parser, days_flag="--days", rows="events")

    def handle(self, *args, days: int, dry_run: bool, batch_size: int, **options) -> None:
        cutoff = timezone.now() - timedelta(days=days)
        old = AuditEvent.objects.filter(created_at__lt=cutoff)
        since = older_than(days, cutoff)
        if dry_run:
            self.stdout.write(f"Dry run: would delete {old.count()} audit events {since}.")
            return
        deleted, batches = delete_in_batches(old, batch_size)
        self.stdout.write(f"Deleted {deleted} audit events {since}, in {batches} batches of at most {batch_size}.")
