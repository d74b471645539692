"""Retention commands' shared pieces (`prune_messages`, `prune_audit`): the day count, and deleting
old rows in short transactions.

A delete walks the matching primary keys upwards and deletes one key range per transaction of at
most `batch_size` rows, so writers in other processes wait at most one batch for a lock instead of
the whole run.
"""

import argparse
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

MAX_NUMBER = 999_999_999  # days or rows: more is a typing mistake, and never converted from a long string


def positive(value: str) -> int:
    """argparse type: a whole number from 1 to MAX_NUMBER, with a message that says what is wrong."""
    try:
        number = int(value) if len(value) <= len(str(MAX_NUMBER)) + 1 else MAX_NUMBER + 1
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number > MAX_NUMBER:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_NUMBER}, got {value}")
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def add_arguments(parser: argparse.ArgumentParser, *, days_flag: str, rows: str) -> None:
    """The options every retention command takes: the age (`days_flag`), --dry-run, --batch-size."""
    parser.add_argument(
        days_flag, type=positive, required=True, metavar="DAYS", help=f"Delete {rows} older than DAYS days."
    )
    parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")
    parser.add_argument("--batch-size", type=positive, default=1000, help="Rows per transaction (default 1000).")


def older_than(days: int, cutoff: datetime) -> str:
    """ "older than 30 days (before 2026-01-01 12:00 UTC)", for the commands' reports."""
    return f"older than {days} day{'s' if days != 1 else ''} (before {cutoff:%Y-%m-%d %H:%M} UTC)"


def delete_in_batches(
    old: QuerySet,
    batch_size: int,
    *,
    before_delete: Callable[[QuerySet], None] | None = None,
    on_batch: Callable[[int, int, int, int], None] | None = None,
) -> tuple[int, int]:
    """Delete the rows of `old`, one primary-key range per transaction. `before_delete(batch)` runs in
    the batch's transaction first; `on_batch(number, deleted, first, last)` reports each one.
    Returns (rows of `old`'s model deleted, batches)."""
    label = old.model._meta.label
    deleted = batches = 0
    after = 0
    while True:
        keys = list(old.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not keys:
            return deleted, batches
        first, last = keys[0], keys[-1]
        with transaction.atomic():
            # The same filter again: rows inside the key range that do not match stay.
            batch = old.filter(pk__gte=first, pk__lte=last)
            if before_delete is not None:
                before_delete(batch)
            _total, per_model = batch.delete()
        count = per_model.get(label, 0)
        deleted += count
        batches += 1
        after = last
        if on_batch is not None:
            on_batch(batches, count, first, last)
