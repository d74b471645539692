"""`/healthz`: is this process able to serve? For load balancers and monitoring.

It answers 200 `{"database": "ok", "channel_layer": "ok"}` only after a real
round trip to each: a `SELECT 1`, and a message sent to a fresh channel and
received back through the channel layer (Redis in production). Otherwise 503,
naming the part that failed. It also reports the task queue (`queue`): how many
jobs are due and waiting, and for how long the oldest has waited; a worker that
is down shows as a growing age, which does not make this process unhealthy (the
web process still serves), so it is for monitoring to alert on. No login, no details beyond "ok"/"error" (the
reason goes to the log), and exempt from the https redirect (settings).
"""

import asyncio
import contextlib
import logging
import secrets

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"


def _database_round_trip() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise RuntimeError("SELECT 1 returned something else")


async def _check_database() -> str:
    try:
        await asyncio.wait_for(sync_to_async(_database_round_trip)(), settings.HEALTHZ_TIMEOUT)
    except Exception as error:  # any failure, timeout included, is "error"
        logger.warning("healthz: database check failed: %s: %s", type(error).__name__, error)
        return ERROR
    return OK


async def _release(layer, channel: str) -> None:
    """Let the layer forget the probe channel, as it does when a consumer goes away.

    Layers drop a channel when a `receive` waiting on it is cancelled (the Redis
    pub/sub layer also unsubscribes); without this every probe would leave a
    subscription behind in a long-lived process.
    """
    waiter = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)  # let it start waiting
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter


async def _layer_round_trip(layer) -> None:
    channel = await layer.new_channel()
    receiving = False
    try:
        nonce = secrets.token_hex(8)
        await layer.send(channel, {"type": "healthz.ping", "nonce": nonce})
        receiving = True
        message = await layer.receive(channel)
        receiving = False
        if message.get("nonce") != nonce:
            raise RuntimeError("received a different message")
    finally:
        if not receiving:  # an interrupted receive has already let go of the channel
            await _release(layer, channel)


async def _check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        logger.warning("healthz: no channel layer is configured")
        return ERROR
    try:
        await asyncio.wait_for(_layer_round_trip(layer), settings.HEALTHZ_TIMEOUT)
    except Exception as error:  # any failure, timeout included, is "error"
        logger.warning("healthz: channel layer check failed: %s: %s", type(error).__name__, error)
        return ERROR
    return OK


def _queue_state() -> dict:
    """Jobs due now and not yet taken by a worker, and how long the oldest of them has been due."""
    from django.db.models import Min
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    # A job without run_after is stored with the largest date: it has been due since it was enqueued.
    undated = ready.filter(run_after=get_date_max()).aggregate(oldest=Min("enqueued_at"))["oldest"]
    dated = ready.exclude(run_after=get_date_max()).aggregate(oldest=Min("run_after"))["oldest"]
    oldest = min((moment for moment in (undated, dated) if moment is not None), default=None)
    return {
        "pending": ready.count(),
        "oldest_pending_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
    }


async def _check_queue() -> dict:
    try:
        return await asyncio.wait_for(sync_to_async(_queue_state)(), settings.HEALTHZ_TIMEOUT)
    except Exception as error:
        logger.warning("healthz: queue check failed: %s: %s", type(error).__name__, error)
        return {"status": ERROR}


@csrf_exempt  # it only reads: a probe's POST (no CSRF cookie) gets the 405, not the CSRF 403
@never_cache
@require_safe
async def healthz(request: HttpRequest) -> JsonResponse:
    database, channel_layer, queue = await asyncio.gather(_check_database(), _check_channel_layer(), _check_queue())
    body = {"database": database, "channel_layer": channel_layer, "queue": queue}
    status = 200 if database == OK and channel_layer == OK else 503
    return JsonResponse(body, status=status)


# Included at /healthz by chatsite/urls.py.
urlpatterns = [path("", healthz, name="healthz")]
