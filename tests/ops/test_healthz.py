"""/healthz: a real round trip to the database and the channel layer, 503 naming what failed."""

import pytest
from channels.layers import get_channel_layer
from django.conf import settings as django_settings
from django.test import Client

from chatsite import health

EMPTY_QUEUE = {"pending": 0, "oldest_pending_seconds": 0}
HEALTHY = {"database": "ok", "channel_layer": "ok", "queue": EMPTY_QUEUE}
CLOSED_PORT_LAYER = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
    }
}


@pytest.mark.django_db
def test_healthy_with_the_configured_database_and_layer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == HEALTHY
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert "sessionid" not in response.cookies  # no login, no session


@pytest.mark.django_db
def test_head_is_allowed_and_writes_are_not(client):
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    # A probe has no CSRF cookie: its POST or DELETE is still 405, not the CSRF refusal's 403.
    probe = Client(enforce_csrf_checks=True)
    assert probe.post("/healthz").status_code == 405
    assert probe.delete("/healthz").status_code == 405


@pytest.mark.django_db
def test_logged_in_users_get_the_same_answer(alice_client):
    response = alice_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == HEALTHY


@pytest.mark.django_db
def test_unreachable_channel_layer_is_503_naming_it(client, settings, log_output):
    settings.CHANNEL_LAYERS = CLOSED_PORT_LAYER
    settings.HEALTHZ_TIMEOUT = 2.0
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "channel_layer": "error", "queue": EMPTY_QUEUE}
    # The reason goes to the log, not to the (unauthenticated) answer.
    assert "channel layer check failed" in log_output.getvalue()
    assert "127.0.0.1:1" not in response.content.decode()


def test_unreachable_database_is_503_naming_it(client):
    """No django_db mark: pytest-django refuses every connection, as a database that is down would."""
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "error", "channel_layer": "ok", "queue": {"status": "error"}}


@pytest.mark.django_db
def test_reports_how_long_the_oldest_due_job_has_waited(client, settings, database_tasks):
    """Jobs waiting for a worker show up with their age; one deferred to later is not yet due."""
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from chatsite.mail import deliver_email

    message = {"name": "n", "subject": "s", "text": "t", "html": "h"}
    waiting = deliver_email.enqueue(to="a@example.com", message=message, attempt=1)
    deliver_email.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(
        to="b@example.com", message=message, attempt=2
    )
    DBTaskResult.objects.filter(pk=waiting.id).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    queue = client.get("/healthz").json()["queue"]
    assert queue["pending"] == 1
    assert 299 <= queue["oldest_pending_seconds"] <= 330


@pytest.mark.django_db
def test_exempt_from_the_https_redirect(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    other = client.get("/accounts/login/")
    assert other.status_code == 301
    assert other["Location"].startswith("https://")


def _probe_channels() -> set[str]:
    """The channels the layer is holding on to: Redis subscriptions, or the in-memory queues."""
    layer = get_channel_layer()
    backend = django_settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if backend.startswith("channels_redis") or backend == "chatsite.layers.RedisPubSubChannelLayer":
        import redis

        prefix = django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
        client = redis.Redis.from_url(django_settings.REDIS_URL)
        try:
            return {name.decode() for name in client.pubsub_channels(f"{prefix}specific.*")}
        finally:
            client.close()
    return set(layer.channels)


async def test_repeated_probes_leave_no_channel_behind():
    """Probes every few seconds for months must not pile up subscriptions in one long-lived process.

    Calls the layer check itself several times in one event loop, as the server would
    (the database half needs no loop of its own).
    """
    before = _probe_channels()
    for _ in range(3):
        assert await health._check_channel_layer() == "ok"
    assert _probe_channels() - before == set()
