"""`manage.py prune_audit --days DAYS [--dry-run]`: the audit log's retention policy.

Deletes audit events older than DAYS days, in short transactions of at most
--batch-size rows chosen by primary-key range, so logins and other writers in
other processes never wait on one long delete.
"""

import argparse
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent


def _positive(value: str) -> int:
    """argparse type: a whole number of at least 1, with a message that says so."""
    try:
        number = int(value) if len(value) <= 9 else -1
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 to 999999999, got {value}")
    return number


class Command(BaseCommand):
    help = (
        "Delete audit events older than DAYS days, in batches of short transactions. "
        "Use --dry-run first to see how many would go."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=_positive, required=True, metavar="DAYS", help="Delete events older than DAYS days."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")
        parser.add_argument("--batch-size", type=_positive, default=1000, help="Rows per transaction (default 1000).")

    def handle(self, *args, days: int, dry_run: bool, batch_size: int, **options) -> None:
        cutoff = timezone.now() - timedelta(days=days)
        old = AuditEvent.objects.filter(created_at__lt=cutoff)
        since = f"older than {days} day{'s' if days != 1 else ''} (before {cutoff:%Y-%m-%d %H:%M} UTC)"
        if dry_run:
            self.stdout.write(f"Dry run: would delete {old.count()} audit events {since}.")
            return
        deleted = batches = 0
        after = 0
        while True:
            keys = list(old.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not keys:
                break
            with transaction.atomic():
                count, _ = old.filter(pk__gte=keys[0], pk__lte=keys[-1]).delete()
            deleted += count
            batches += 1
            after = keys[-1]
        self.stdout.write(f"Deleted {deleted} audit events {since}, in {batches} batches of at most {batch_size}.")
