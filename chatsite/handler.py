"""The site's ASGI handler for HTTP: Django's, with a request's sync work in one thread hop, on threads kept.

Django's ASGIHandler runs each request in its own `ThreadSensitiveContext`, so the request's sync code
(middleware, view, signal receivers, the response's close) runs in a thread of its own, with its own
database connection. asgiref starts that thread for the request and, when the request ends, one more
thread to shut it down: two threads started and joined per request. And with every middleware sync
(chatsite.middleware.SyncChain), the request still crosses between the event loop and its thread about
five times (the request_started receivers; the middleware chain; back to the loop for the async
`_get_response_async`; the sync view; the response's close).

Here the request's context gets a single-thread executor from a list of idle ones (the same guarantee:
one thread per request while it runs, all its sync code there), put back when the request ends, and the
sync work is one call into that thread: request_started, building the request, the middleware chain and
the view (loaded in sync mode, as under WSGI), and, for a response that is not streamed, its close
(request_finished: the database connection back to the pool) before the body is sent. A streamed
response is closed after its body, as Django does. The rest is Django's: the body is read and the
response sent on the event loop, and a client that disconnects while its request runs cancels it.
Async views (healthz) run on the event loop through `async_to_sync`, as under WSGI.

At most HTTP_THREADS requests (default 4) run their sync work at once; the others wait on the loop, first
come first served, instead of twenty threads taking turns with the interpreter: with 20 clients on the
conversation page the p99 went from 228-316 ms (no limit) to 189-196 ms (4) and 171-180 ms (2), at the same
throughput (BENCHMARKS.md, "Round two, closing"). A request that waits on something slow (a long query) holds
its turn, hence 4 rather than 2.

bench/page_cpu.py --app (BENCHMARKS.md, "Fewer thread hops"): CPU per conversation page and per
history request, before and after.
"""

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix

# Idle request threads kept for the next requests; more are started when more requests run at once, and
# those over this number end when their request does.
IDLE_THREADS = 64


class HTTPHandler(ASGIHandler):
    """Django's ASGI handler for HTTP (see the module's docstring for what differs)."""

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._idle: list[ThreadPoolExecutor] = []
        self._turns: tuple[asyncio.AbstractEventLoop, int, asyncio.Semaphore] | None = None

    def _turn(self):
        """A turn among the requests whose sync work runs at once (HTTP_THREADS; 0: no limit), first come
        first served: the others wait on the loop rather than share the interpreter in many threads."""
        size = settings.HTTP_THREADS
        if not size:
            return contextlib.nullcontext()
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns[:2] != (loop, size):
            self._turns = (loop, size, asyncio.Semaphore(size))
        return self._turns[2]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="request")
        finished = False
        try:
            async with ThreadSensitiveContext(executor=executor):
                finished = await self.handle(scope, receive, send)
        finally:
            # A request cancelled while its thread still runs its view (the client left) does not give the
            # thread back: the next request would wait behind the abandoned work.
            if finished and len(self._idle) < IDLE_THREADS:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    def respond(self, scope, body_file):
        """The request's sync work, in its thread: (response, closed)."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            # Larger chunks for files (the ASGI server splits them for the socket), as Django's.
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if response.streaming:
            return response, False
        response.close()
        return response, True

    async def handle(self, scope, receive, send):
        """Django's, but for `respond`; True when the request's sync work ran to its end."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return True
        closed = False

        async def process_request():
            nonlocal closed
            async with self._turn():
                response, closed = await sync_to_async(self.respond)(scope, body_file)
            with contextlib.suppress(asyncio.CancelledError):  # the client left while the body was sent
                await self.send_response(response, send)
            return response

        # As Django's: a disconnect while the response is made cancels it (the listener goes first).
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
            body_file.close()
            return False
        if not closed:
            await sync_to_async(response.close)()
        body_file.close()
        return True
