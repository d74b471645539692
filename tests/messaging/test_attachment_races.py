"""The per-user quota holds under parallel uploads: two uploads that each fit, but not together,
never both get stored. PostgreSQL: each upload runs in its own thread with its own connection."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.models import User
from messaging.models import Attachment
from tests.messaging.files import PDF, post_upload

pytestmark = [pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 20


def waiting_on_locks() -> int:
    """Backends of this database waiting for a lock now (the uploads queued on the user's row).

    Read inside the caller's transaction, where PostgreSQL would keep answering from the statistics
    snapshot it took at the first read: that snapshot is cleared first, or a first look taken before
    the uploads queued is all the loop ever sees."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("media", ["filesystem"], indirect=True)
def test_two_parallel_uploads_never_pass_the_quota_together(login, cast, settings, media):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and parallel connections: PostgreSQL (SQLite takes one writer at a time)")
    settings.ATTACHMENT_QUOTA_BYTES = len(PDF) * 3 // 2  # room for one of the two
    clients = [login(cast.member), login(cast.member)]
    answers: list = [None, None]

    def upload(index: int) -> None:
        try:
            answers[index] = post_upload(clients[index], cast.general.pk, f"{index}.pdf", PDF)
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    # Hold the user's row, so both uploads pass the first look at the quota, store their
    # bytes and then queue for the final check: the interleaving that let both through.
    with transaction.atomic():
        User.objects.select_for_update().get(pk=cast.member.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while waiting_on_locks() < 2:
            assert time.monotonic() < deadline, "the uploads never queued for the user's row"
            time.sleep(0.05)  # polling the server's lock table for a condition, not waiting out a race
    for thread in threads:
        thread.join(WAIT_SECONDS)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 413]
    refused = next(answer for answer in answers if answer.status_code == 413)
    assert refused.json()["error"] == "over_quota"
    assert Attachment.objects.filter(uploader=cast.member).count() == 1
    assert len(media.files()) == 1  # the refused upload's bytes are gone too
