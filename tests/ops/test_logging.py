"""Log records on stdout: one grep-able line with time, level, logger, user and conversation ids."""

import logging
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.test import AsyncClient

from chatsite.logging import log_context
from groups import services as group_services
from messaging import services as messaging_services
from messaging.selectors import default_conversation
from tests.conftest import PASSWORD
from tests.ops.test_healthz import CLOSED_PORT_LAYER

LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) (?P<logger>\S+) "
    r"user=(?P<user>\S+) conversation=(?P<conversation>\S+) (?P<message>.*)$"
)

logger = logging.getLogger("tests.ops")


def records(output) -> list[dict]:
    lines = output.getvalue().splitlines()
    parsed = [LINE.match(line) for line in lines]
    assert all(parsed), f"lines not in the documented format: {lines}"
    return [match.groupdict() for match in parsed]


def test_line_format_with_and_without_ids(log_output):
    logger.info("plain")
    logger.warning("about a conversation", extra={"conversation_id": 7})
    with log_context(user_id=42, conversation_id=9):
        logger.error("inside a block")
        logger.info("explicit wins", extra={"conversation_id": 3})
    logger.info("after the block")
    rows = records(log_output)
    assert [(r["level"], r["logger"], r["user"], r["conversation"], r["message"]) for r in rows] == [
        ("INFO", "tests.ops", "-", "-", "plain"),
        ("WARNING", "tests.ops", "-", "7", "about a conversation"),
        ("ERROR", "tests.ops", "42", "9", "inside a block"),
        ("INFO", "tests.ops", "42", "3", "explicit wins"),
        ("INFO", "tests.ops", "-", "-", "after the block"),
    ]


def test_newlines_and_tracebacks_stay_on_one_line(log_output):
    logger.warning("first\nINFO forged line")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    lines = log_output.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("first\\nINFO forged line")
    assert "failed\\nTraceback (most recent call last):" in lines[1]
    assert lines[1].endswith("ValueError: boom")


@pytest.mark.django_db
def test_request_records_carry_the_logged_in_user(client, alice, log_output):
    client.get("/no-such-page/")  # Django logs "Not Found" while handling the request
    client.force_login(alice)
    client.get("/no-such-page/")
    rows = [r for r in records(log_output) if r["logger"] == "django.request"]
    assert [(r["user"], r["message"]) for r in rows] == [
        ("-", "Not Found: /no-such-page/"),
        (str(alice.pk), "Not Found: /no-such-page/"),
    ]
    logger.info("outside any request")
    assert records(log_output)[-1]["user"] == "-"


async def test_request_records_carry_the_user_under_asgi(settings, log_output):
    """The async path of the middleware. Cookie sessions and a failing /healthz: no database needed."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    settings.CHANNEL_LAYERS = CLOSED_PORT_LAYER
    settings.HEALTHZ_TIMEOUT = 2.0
    session = SessionStore()
    session[SESSION_KEY] = "4242"
    await session.asave()
    client = AsyncClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    response = await client.get("/healthz")
    assert response.status_code == 503
    rows = {(r["logger"], r["user"], r["message"].split(":")[0]) for r in records(log_output)}
    assert ("chatsite.health", "4242", "healthz") in rows  # logged inside the view
    assert ("django.request", "4242", "Service Unavailable") in rows  # logged by Django after the middleware


@pytest.mark.django_db
def test_no_passwords_or_message_bodies_in_the_log(client, alice, bob, settings, log_output):
    settings.LOG_LEVEL = "DEBUG"
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        refused = client.post("/accounts/login/", {"username": "alice", "password": "not-the-password-7731"})
        assert refused.status_code == 400  # the form again, with an error
        assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
        group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
        conversation = default_conversation(group)
        messaging_services.message_send(actor=alice, conversation_id=conversation.pk, body="the secret plan 5521")
    finally:
        logging.getLogger().setLevel(settings.LOG_LEVEL)
    text = log_output.getvalue()
    assert "not-the-password-7731" not in text
    assert PASSWORD not in text
    assert "secret plan 5521" not in text
