"""Single-line log records with the user and conversation ids where known.

Every record on stdout reads

    2025-01-31T12:00:00.123Z INFO messaging.services user=42 conversation=7 message sent

so an operator can `grep user=42` or `grep conversation=7` across processes.
The ids come from, in order: `extra={"user_id": …, "conversation_id": …}` on
the call, the request being handled (`RequestContextMiddleware`), a
`log_context(...)` block (consumers), and '-' when unknown. Tracebacks and newlines inside messages are
escaped so one event stays one line and a message text cannot forge a record.

What not to log: message bodies, passwords, session keys or tokens. Log ids.
"""

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.contrib.auth import SESSION_KEY

_user_id: contextvars.ContextVar[str] = contextvars.ContextVar("log_user_id", default="-")
_conversation_id: contextvars.ContextVar[str] = contextvars.ContextVar("log_conversation_id", default="-")

FIELDS = ("user_id", "conversation_id")


class ContextFilter(logging.Filter):
    """Fill `user_id` and `conversation_id`: the call's `extra`, else the context, else '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "user_id", None) is None:
            # Django logs a request's outcome ("Not Found: /x") after the middleware
            # has returned, with the request attached: take the id noted on it.
            request_user_id = getattr(getattr(record, "request", None), "log_user_id", None)
            record.user_id = request_user_id or _user_id.get()
        if getattr(record, "conversation_id", None) is None:
            record.conversation_id = _conversation_id.get()
        return True


class LineFormatter(logging.Formatter):
    """`time level logger user= conversation= message`, one line per record, time in UTC."""

    default_format = "%(asctime)s %(levelname)s %(name)s user=%(user_id)s conversation=%(conversation_id)s %(message)s"
    converter = time.gmtime

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "%", **kwargs) -> None:
        super().__init__(fmt or self.default_format, datefmt, style, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        for name in FIELDS:  # formatting must not fail when the filter was not attached
            if not hasattr(record, name):
                setattr(record, name, "-")
        return _one_line(super().format(record))


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


@contextlib.contextmanager
def log_context(*, user_id: object = None, conversation_id: object = None) -> Iterator[None]:
    """Tag every record logged inside the block (in this task or thread) with these ids."""
    tokens = []
    if user_id is not None:
        tokens.append((_user_id, _user_id.set(str(user_id))))
    if conversation_id is not None:
        tokens.append((_conversation_id, _conversation_id.set(str(conversation_id))))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def _request_user_id(request) -> str | None:
    """The logged-in user's id without a database query: the session already holds it.

    Reading `request.user` here would cost a query on every request (and cannot
    run in async code); the id in the session is what authentication checks anyway.
    """
    session = getattr(request, "session", None)
    if session is None or not request.COOKIES:
        return None
    try:
        value = session.get(SESSION_KEY)
    except Exception:  # a broken session store must not stop the request here
        return None
    return str(value) if value is not None else None


async def _arequest_user_id(request) -> str | None:
    session = getattr(request, "session", None)
    if session is None or not request.COOKIES:
        return None
    try:
        value = await session.aget(SESSION_KEY)
    except Exception:  # a broken session store must not stop the request here
        return None
    return str(value) if value is not None else None


class RequestContextMiddleware:
    """Put the request's user id into every log record written while it is handled.

    Place after SessionMiddleware. Works under WSGI and ASGI.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        user_id = request.log_user_id = _request_user_id(request)
        with log_context(user_id=user_id):
            return self.get_response(request)

    async def __acall__(self, request):
        user_id = request.log_user_id = await _arequest_user_id(request)
        with log_context(user_id=user_id):
            return await self.get_response(request)
