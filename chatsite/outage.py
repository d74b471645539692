"""When the database cannot be reached: a 503 that says so, and one log line a minute, not a storm.

Django turns an exception anywhere in a request (a middleware loading the session, a
view) into its 500 handler and logs it with a traceback. For the database being down
(`OperationalError`, `InterfaceError`: refused, dropped, pool timeout) the honest answer
is 503 with Retry-After, and the traceback of every request says nothing new: the log
keeps one a minute. The connection recovers by itself once the database is back (a new
connection, or the pool's next check), so no restart is needed.
"""

import logging
import sys
import time

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.views.defaults import server_error as django_server_error

DATABASE_DOWN = (OperationalError, InterfaceError)
_warned_at: dict[str, float] = {}


def log_outage(logger: logging.Logger, what: str, *, exc_info: bool = True) -> None:
    """Log an outage once a minute per kind, not once per request or socket: Redis down must not flood the log."""
    now = time.monotonic()
    if now - _warned_at.get(what, -60.0) < 60.0:
        return
    _warned_at[what] = now
    logger.warning(what, exc_info=exc_info)


def reset() -> None:
    """Forget which outages were logged this minute (each test starts with none)."""
    _warned_at.clear()


RETRY_AFTER = 10  # seconds
DETAIL = "The chat cannot reach its database right now. Nothing was changed; try again in a moment."


def database_down(exception: BaseException | None) -> bool:
    return isinstance(exception, DATABASE_DOWN)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 for the database being down (JSON for API clients), Django's 500 page otherwise.

    The page is rendered without the base template: that would ask for the user, so the database.
    """
    if not database_down(sys.exc_info()[1]):
        return django_server_error(request)
    if "application/json" in request.headers.get("accept", ""):
        response = JsonResponse({"error": "unavailable", "detail": DETAIL}, status=503)
    else:
        html = loader.render_to_string("unavailable.html", {"detail": DETAIL})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    return response


class OutageFilter(logging.Filter):
    """On `django.request`: a database-down record keeps its traceback once a minute; the others are dropped."""

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__()
        self.interval = interval
        self.logged_at = -interval

    def filter(self, record: logging.LogRecord) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        if not database_down(exception):
            return True
        return self.due()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.logged_at < self.interval:
            return False
        self.logged_at = now
        return True


class OncePerMinute(OutageFilter):
    """On the loggers of libraries that retry on their own (the database pool, the Redis channel layer):
    their warnings and errors once a minute, so an outage of minutes is a few lines, not thousands."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING or self.due()
