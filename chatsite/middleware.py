"""Middleware of the site's own (the log context one lives with the logging in chatsite/logging.py)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SyncChain:
    """Last in MIDDLEWARE: the whole middleware chain runs in one worker thread under ASGI.

    Django runs a middleware in async mode whenever everything below it can, and its own
    middleware (MiddlewareMixin) then hops to a worker thread and back for each
    process_request / process_response: 19 sync/async switches per request here, each copying
    the context variables (asgiref). Being sync-only and last, this one makes every middleware
    above it run sync: 6 switches (into the thread; the handler, then the sync view; the
    request signals). 1.1 to 1.5 ms of CPU less per request (bench/page_cpu.py: conversation
    page 9.0 -> 7.5 ms, history endpoint 4.8 -> 3.7 ms). Async views (healthz) still run on
    the event loop. The server's handler (chatsite/handler.py) loads the chain in sync mode
    anyway; this keeps the test client's and Django's own ASGI handler to one thread too.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
