"""Uploading and serving attachments (docs/protocol.md, "Attachments").

Uploads: `POST /chats/<id>/attachments/` with one file in `file` answers the attachment's
JSON; the message then names it in `attachments` (socket `message.send` or the composer form).
Downloads: `GET /files/<id>/` and `/files/<id>/thumbnail/`, only to users who can see the
conversation now; everyone else, and a missing id, get the same 404. Responses never let a
browser treat a file as part of the site: `nosniff`, a CSP sandbox, and `attachment`
disposition for everything but the four image types, which were re-encoded on upload.
"""

from collections.abc import AsyncIterator
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from chatsite.errors import Invalid, NotFound
from chatsite.http import json_errors
from chatsite.uploads import upload_limit, upload_stopped
from messaging import attachments, services
from messaging.access import access_conversation
from messaging.images import INLINE_TYPES, THUMBNAIL_TYPE
from messaging.models import Attachment, Message

NOT_FOUND_TEXT = "That file does not exist or you cannot see it."
DOWNLOAD_CHUNK = 256 * 1024  # bytes read from storage per chunk when the app sends a file itself


@upload_limit(file_bytes="ATTACHMENT_MAX_BYTES", files=1)
@require_POST
@json_errors
def attachment_upload(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """One file (`file`) for a message still to be sent: 201 `{"attachment": {...}}`."""
    upload = request.FILES.get("file")
    if upload is None or upload_stopped(request):
        access_conversation(request.user, conversation_id)  # to an outsider, 404 whatever was posted
    check_upload_stopped(request)
    if upload is None:
        raise Invalid("Send the file in a “file” field.")
    attachment = attachments.attachment_upload(actor=request.user, conversation_id=conversation_id, upload=upload)
    return JsonResponse({"attachment": attachments.attachment_json(attachment)}, status=201)


@require_POST
@json_errors
def attachment_discard(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """The uploader removes an upload not yet sent: 204, and it no longer counts in the quota."""
    attachments.attachment_discard(actor=request.user, attachment_id=attachment_id)
    return HttpResponse(status=204)


def check_upload_stopped(request: HttpRequest) -> None:
    """`too_large` when a file of this request passed ATTACHMENT_MAX_BYTES while it streamed in
    and was dropped there (chatsite/uploads.py): it is not in request.FILES."""
    if upload_stopped(request):
        raise attachments.too_large()


def send_with_files(
    user, conversation_id: int, body: str, *, files: list, attachment_ids: list[str], reply_to=None
) -> Message:
    """The composer form's send: store the posted files, then the message with them; the message
    (its JSON built once, as `as_json`: `services.message_send`).

    If anything is refused, the files stored for this post are deleted again: the message and its
    files are stored together or not at all.
    """
    if len(files) + len(attachment_ids) > settings.ATTACHMENT_MAX_PER_MESSAGE:
        raise Invalid(f"A message can have at most {settings.ATTACHMENT_MAX_PER_MESSAGE} files.", code="invalid")
    stored: list[str] = []
    try:
        for upload in files:
            stored.append(attachments.attachment_upload(actor=user, conversation_id=conversation_id, upload=upload).pk)
        message, _created = services.message_send(
            actor=user,
            conversation_id=conversation_id,
            body=body,
            attachments=[*attachment_ids, *stored] or None,
            reply_to=reply_to,
        )
    except BaseException:
        if stored:
            with transaction.atomic():
                attachments.delete_attachments(Attachment.objects.filter(pk__in=stored))
        raise
    return message


@require_GET
def attachment_download(request: HttpRequest, attachment_id: str) -> HttpResponse:
    return _serve(request, attachment_id, thumbnail=False)


@require_GET
def attachment_thumbnail(request: HttpRequest, attachment_id: str) -> HttpResponse:
    return _serve(request, attachment_id, thumbnail=True)


async def _async_chunks(stored) -> AsyncIterator[bytes]:
    """Under ASGI Django reads a plain iterator (FileResponse's too) to the end before sending the first
    byte: a 25 MiB file would sit in memory. Read it here a chunk at a time, closing it at the end."""
    read = sync_to_async(stored.read, thread_sensitive=False)
    try:
        while chunk := await read(DOWNLOAD_CHUNK):
            yield chunk
    finally:
        await sync_to_async(stored.close, thread_sensitive=False)()


def _not_found() -> HttpResponse:
    return _harden(HttpResponse(NOT_FOUND_TEXT, status=404, content_type="text/plain; charset=utf-8"))


def _harden(response: HttpResponse) -> HttpResponse:
    """What every file response carries: no sniffing, no scripts, no embedding elsewhere."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _serve(request: HttpRequest, attachment_id: str, *, thumbnail: bool) -> HttpResponse:
    try:
        attachment = attachments.attachment_for_download(request.user, attachment_id)
    except NotFound:
        return _not_found()
    if thumbnail:
        if not attachment.thumbnail:
            return _not_found()
        name, content_type = attachment.thumbnail, THUMBNAIL_TYPE[0]
        filename = attachment.name.rsplit(".", 1)[0] + "-thumbnail." + THUMBNAIL_TYPE[1]
    else:
        name, content_type, filename = attachment.file, attachment.content_type, attachment.name
    inline = content_type in INLINE_TYPES and (thumbnail or attachment.kind == attachment.Kind.IMAGE)
    if not inline:
        content_type = content_type if content_type != "text/html" else "text/plain"
    disposition = content_disposition_header(not inline, filename)
    mode = settings.FILES_SERVE
    if mode == "redirect":
        url = attachments.storage().url(
            name,
            parameters={"ResponseContentType": content_type, "ResponseContentDisposition": disposition},
            expire=settings.FILES_URL_EXPIRY,
        )
        response: HttpResponse = HttpResponseRedirect(url)
    elif mode == "nginx":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = quote(settings.FILES_ACCEL_PREFIX + name)
    else:
        stored = attachments.storage().open(name, "rb")
        if isinstance(request, ASGIRequest):
            response = StreamingHttpResponse(_async_chunks(stored), content_type=content_type)
        else:
            response = FileResponse(stored, content_type=content_type)
        response["Content-Length"] = str(attachment.thumbnail_size if thumbnail else attachment.size)
    response["Content-Disposition"] = disposition
    # Private to this browser; ids never change content, so a short reuse is safe.
    response["Cache-Control"] = "private, max-age=300"
    return _harden(response)
