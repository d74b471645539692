"""Upload size limits, enforced while a request body streams in, before anything is stored.

A view that takes files says how large they may be with `@upload_limit(file_bytes=..., files=...)`
(names of settings, read on each request). Three walls, outermost first:

- `UploadLimitASGI` (chatsite/asgi.py): under ASGI, Django reads a whole body into a spooled
  temporary file before any middleware runs. This refuses a POST to such a view with 413 from
  its Content-Length alone, without reading the body, and stops reading one without a
  Content-Length (chunked) as soon as it passes the limit.
- `UploadLimitMiddleware` (before CsrfViewMiddleware, which is the first to parse a body): the
  same Content-Length check under WSGI, then `FileSizeLimit` in front of Django's upload handlers.
- `FileSizeLimit`: counts each file's bytes as the multipart parser hands them over and stops
  the upload at the first file past `file_bytes`; the fields before it (the message text) are
  kept, and the view answers with the reason (`upload_stopped(request)`).

A body may hold `files` files of `file_bytes` each plus MULTIPART_OVERHEAD for the other fields
and the multipart framing.
"""

import json
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.html import escape

MULTIPART_OVERHEAD = 64 * 1024  # bytes of fields and framing allowed beside the files themselves
_STOPPED = "_upload_stopped"


def upload_limit(*, file_bytes: str, files: str | int = 1) -> Callable:
    """Mark a view as taking uploads of at most `settings.<file_bytes>` bytes per file and
    `files` files (a number, or the name of a setting)."""

    def decorate(view: Callable) -> Callable:
        view.upload_limit = (file_bytes, files)
        return view

    return decorate


def limits_for(view: Callable) -> tuple[int, int] | None:
    """(bytes per file, bytes per body) for a view marked with `upload_limit`, else None."""
    spec = getattr(view, "upload_limit", None)
    if spec is None:
        return None
    file_bytes = int(getattr(settings, spec[0]))
    files = spec[1] if isinstance(spec[1], int) else int(getattr(settings, spec[1]))
    return file_bytes, files * file_bytes + MULTIPART_OVERHEAD


def format_size(size: int) -> str:
    """1 023 bytes, 1.5 KiB, 25.0 MiB, 1.0 GiB: how limits and cards show sizes."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def too_large_detail(file_bytes: int) -> str:
    return f"That upload is too large: files can be at most {format_size(file_bytes)}."


def wants_page(accept: str) -> bool:
    """A browser posting a form without JavaScript asks for HTML; the page's script asks for JSON."""
    return "text/html" in accept and "application/json" not in accept


def too_large_answer(file_bytes: int, *, accept: str, back: str) -> tuple[bytes, bytes]:
    """(content type, body) of the 413: JSON `{"error": "too_large", "detail"}`, or for a form posted
    without JavaScript a short page with the reason and a way back (the browser's Back keeps the text)."""
    detail = too_large_detail(file_bytes)
    if not wants_page(accept):
        return b"application/json", json.dumps({"error": "too_large", "detail": detail}).encode()
    page = (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Not sent: too large</title>'
        f"<main><h1>Not sent: the files are too large</h1><p>{escape(detail)}</p>"
        "<p>Nothing was stored. Go back to keep your text and choose smaller files, or "
        f'<a href="{escape(back)}">return to the conversation</a>.</p></main></html>'
    )
    return b"text/html; charset=utf-8", page.encode()


def upload_stopped(request: HttpRequest) -> bool:
    """Whether FileSizeLimit stopped a file of this request: it is not in request.FILES."""
    request.FILES  # noqa: B018  (the body is parsed on first use: parse it before asking)
    return bool(getattr(request, _STOPPED, False))


class FileSizeLimit(FileUploadHandler):
    """First of the upload handlers: passes each chunk on, and stops the upload at the first
    file past `max_bytes`; what the next handlers stored of it is closed and dropped."""

    def __init__(self, request: HttpRequest, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            setattr(self.request, _STOPPED, True)
            # Read and drop the rest of the body (it is not stored), so the connection stays usable.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


def _content_length(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class UploadLimitMiddleware:
    """Before CsrfViewMiddleware in MIDDLEWARE: refuse a body too large for the view from its
    Content-Length, and put FileSizeLimit in front of the upload handlers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, view_args, view_kwargs) -> HttpResponse | None:
        if request.method != "POST":
            return None
        limits = limits_for(view_func)
        if limits is None:
            return None
        file_bytes, body_bytes = limits
        length = _content_length(request.META.get("CONTENT_LENGTH"))
        if length is not None and length > body_bytes:
            content_type, body = too_large_answer(
                file_bytes, accept=request.headers.get("Accept", ""), back=request.path
            )
            return HttpResponse(body, status=413, content_type=content_type.decode())
        request.upload_handlers.insert(0, FileSizeLimit(request, file_bytes))
        return None


class UploadLimitASGI:
    """ASGI wrapper of the HTTP app: a POST to an upload view is refused before Django spools
    its body, from the Content-Length, or once the bytes read pass the view's body limit."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        limits = self._limits(scope) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if limits is None:
            return await self.app(scope, receive, send)
        file_bytes, body_bytes = limits
        headers = dict(scope.get("headers") or [])
        length = _content_length(headers.get(b"content-length", b"").decode("latin-1") or None)
        answer = too_large_answer(
            file_bytes, accept=headers.get(b"accept", b"").decode("latin-1"), back=scope.get("path", "/")
        )
        if length is not None and length > body_bytes:
            return await self._refuse(send, answer)

        read = 0
        over = False
        started = False

        async def counted_receive():
            nonlocal read, over
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > body_bytes:
                    over = True
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)
        if over and not started:
            await self._refuse(send, answer)

    @staticmethod
    def _limits(scope) -> tuple[int, int] | None:
        try:
            match = resolve(scope["path"])
        except Resolver404:
            return None
        return limits_for(match.func)

    @staticmethod
    async def _refuse(send, answer: tuple[bytes, bytes]) -> None:
        content_type, body = answer
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
