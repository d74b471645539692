"""Mail goes through the production queue: the request stores a job, `db_worker` sends it over SMTP,
and a failed send is logged and retried later instead of lost."""

import pytest
from django_tasks_db.models import DBTaskResult

from accounts.models import User


@pytest.fixture
def verified_alice(alice):
    User.objects.filter(pk=alice.pk).update(email_verified=True)
    return alice


def test_the_request_only_queues_and_the_worker_sends(client, verified_alice, mailbox, database_tasks, run_worker):
    response = client.post("/accounts/password-reset/", {"email": "alice@example.com"})
    assert response.status_code == 200
    assert mailbox.messages == []  # nothing sent while the request ran
    assert DBTaskResult.objects.ready().count() == 1

    run_worker()  # the lookup job, which queues the mail job
    run_worker()
    assert [m["To"] for m in mailbox.messages] == ["alice@example.com"]
    assert DBTaskResult.objects.ready().count() == 0
    assert not DBTaskResult.objects.failed().exists()


def test_a_failed_send_is_logged_and_retried_later(
    client, verified_alice, settings, database_tasks, run_worker, log_output
):
    from chatsite.mail import email_send

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 1, False  # nobody listens
    email_send(to="alice@example.com", name="password_reset", context={"user": verified_alice, "link": "x"})
    run_worker()

    assert "email password_reset to @example.com failed (attempt 1)" in log_output.getvalue()
    (retry,) = DBTaskResult.objects.filter(status="READY")
    assert retry.args_kwargs["kwargs"]["attempt"] == 2
    assert retry.run_after > retry.enqueued_at  # waits its back-off before a worker takes it
    assert DBTaskResult.objects.ready().count() == 0


def test_the_last_failure_is_an_error_and_the_job_fails(settings, alice, database_tasks, run_worker, log_output):
    from chatsite.mail import deliver_email

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 1, False
    message = {"name": "password_reset", "subject": "s", "text": "t", "html": "h"}
    attempts = len(settings.EMAIL_RETRY_DELAYS) + 1
    deliver_email.enqueue(to="alice@example.com", message=message, attempt=attempts)
    run_worker()
    assert "failed for good after 5 attempts" in log_output.getvalue()
    assert DBTaskResult.objects.failed().count() == 1
    assert DBTaskResult.objects.filter(status="READY").count() == 0
