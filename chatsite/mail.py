"""Outgoing email: written from templates when asked for, sent by the task worker.

`email_send` renders the subject, the plain-text body and the HTML body
(`templates/email/<name>_subject.txt`, `<name>.txt`, `<name>.html`) and puts a
`deliver_email` job on the task queue; it never talks to the mail server, so a
request never waits for it. The worker (`manage.py db_worker`) sends; a failed
send is logged and tried again after each of `EMAIL_RETRY_DELAYS`, then given up
(logged as an error, the job marked failed).
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    """An absolute link for a mail (written outside any request, so from `SITE_URL`)."""
    return settings.SITE_URL + path


def render_email(name: str, context: dict[str, Any]) -> dict[str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"email/{name}_subject.txt", context).split())
    return {
        "name": name,
        "subject": subject,
        "text": render_to_string(f"email/{name}.txt", context),
        "html": render_to_string(f"email/{name}.html", context),
    }


def email_send(*, to: str, name: str, context: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Queue one mail to one address. Inside a transaction the job commits (or not) with the caller's writes."""
    message = render_email(name, context)
    if headers:
        message["headers"] = headers
    deliver_email.enqueue(to=to, message=message, attempt=1)


def _domain(address: str) -> str:
    """Logs name the recipient's domain only: addresses are personal data."""
    return address.rpartition("@")[2] or "?"


@task()
def deliver_email(*, to: str, message: dict[str, Any], attempt: int) -> None:
    mail = EmailMultiAlternatives(
        message["subject"], message["text"], settings.DEFAULT_FROM_EMAIL, [to], headers=message.get("headers")
    )
    mail.attach_alternative(message["html"], "text/html")
    try:
        mail.send()
    except Exception as error:
        delays = settings.EMAIL_RETRY_DELAYS
        if attempt > len(delays):
            logger.error(
                "email %s to @%s failed for good after %d attempts: %s", message["name"], _domain(to), attempt, error
            )
            raise
        delay = delays[attempt - 1]
        logger.warning(
            "email %s to @%s failed (attempt %d): %s; retrying in %d s",
            message["name"],
            _domain(to),
            attempt,
            error,
            delay,
        )
        retry = deliver_email.using(run_after=timezone.now() + timedelta(seconds=delay))
        if not retry.get_backend().supports_defer:  # the immediate backend (tests) cannot wait
            raise
        retry.enqueue(to=to, message=message, attempt=attempt + 1)
        return
    logger.info("email %s sent to @%s", message["name"], _domain(to))
