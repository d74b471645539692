"""A person with a socket open is on the site: their unread direct messages are not mailed while it is open."""

import pytest

from messaging import services
from tests.messaging.test_missed_messages import MINUTES, time_passes
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def run_due_jobs() -> None:
    """What `manage.py db_worker --batch` runs (the command itself wants the main thread for its signals)."""
    from django_tasks_db.management.commands.db_worker import Worker

    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()


async def test_no_mail_while_a_socket_is_open_and_one_after_it_closes(connect, team, database_tasks, mailbox, settings):
    settings.MISSED_MESSAGE_DELAY = MINUTES * 60
    direct, _ = await call(services.direct_open)(actor=team.alice, username="bob")
    bob_socket = await connect(team.bob)
    await call(services.message_send)(actor=team.alice, conversation_id=direct.pk, body="ping")

    await call(time_passes)(MINUTES + 1)
    await call(run_due_jobs)()
    assert mailbox.messages == []  # bob is online: no mail, the check comes back later

    await bob_socket.ws.disconnect()
    await call(time_passes)(MINUTES + 1)
    await call(run_due_jobs)()
    await call(run_due_jobs)()
    (mail,) = mailbox.messages
    assert mail["To"] == "bob@example.com" and "ping" in mailbox.text(mail)
