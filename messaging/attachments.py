"""Files and images shared in conversations: upload, attach to a message, serve, delete.

An upload is stored at once (streamed to the `attachments` storage, never held in memory
whole) with no message; `attach` ties uploads to a message inside the message's own
transaction, so a message and its files are stored together. Uploads left unattached are
deleted by `manage.py cleanup_attachments` after ATTACHMENT_UNATTACHED_TTL. Deleting rows
(`delete_attachments`) deletes their stored bytes once the transaction commits.
"""

import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.db.models import QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from chatsite.errors import Invalid, NotFound
from chatsite.uploads import format_size
from messaging import images, rawsql
from messaging.access import access_conversation
from messaging.models import Attachment, Message

SNIFF_BYTES = 8192  # what type detection reads of a file
_ID = re.compile(r"\A[A-Za-z0-9_-]{1,32}\Z")  # an upload id (random, URL-safe); anything else names nothing


def _is_id(value) -> bool:
    """Checked before any lookup: a NUL in an id made PostgreSQL raise (a 500), not find nothing."""
    return isinstance(value, str) and _ID.match(value) is not None


# Characters never kept in a name: controls, path separators, and what upsets download headers and shells.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
NAME_MAX = 120


def storage():
    return storages["attachments"]


def clean_name(name: Any) -> str:
    """A file name safe to show and to put in a download header: the last path part, printable,
    without separators or quotes, at most NAME_MAX characters (the extension kept)."""
    name = str(name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # controls, bidi overrides
    name = _UNSAFE.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        name = name[: NAME_MAX - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name or "file"


def sniff(upload: IO[bytes]) -> str:
    """The content type of a file that is not one of the four images, from its first bytes only."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # not just a character cut at the end of the sample
                return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def storage_used(user: User) -> int:
    """Bytes the user's uploads take (files, images and thumbnails)."""
    total = Attachment.objects.filter(uploader=user).aggregate(n=Sum("size"), t=Sum("thumbnail_size"))
    return (total["n"] or 0) + (total["t"] or 0)


def too_large(size: int | None = None) -> Invalid:
    """The refusal of a file over ATTACHMENT_MAX_BYTES (its size when known: a file stopped while
    it streamed in was never read whole)."""
    limit = format_size(settings.ATTACHMENT_MAX_BYTES)
    what = f"That file is too large ({format_size(size)})" if size is not None else "That file is too large"
    return Invalid(f"{what}; files can be at most {limit}.", code="too_large")


def _check_limits(actor: User, size: int) -> None:
    """Refuse an empty or too large file, or one over the actor's quota (a first look: the
    quota is checked again, under the actor's row lock, when the upload is stored)."""
    if size == 0:
        raise Invalid("That file is empty.", code="empty")
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise too_large(size)
    _check_quota(actor, size)


def _check_quota(actor: User, size: int) -> None:
    used = storage_used(actor)
    if used + size > settings.ATTACHMENT_QUOTA_BYTES:
        raise Invalid(
            f"That file would put you over your storage quota ({format_size(used)} of "
            f"{format_size(settings.ATTACHMENT_QUOTA_BYTES)} used). Delete some messages with files to make room.",
            code="over_quota",
        )


def _storage_name(attachment_id: str, extension: str, suffix: str = "") -> str:
    # Random names, in no way derived from what the uploader called the file.
    return f"attachments/{attachment_id[:2]}/{attachment_id}/{secrets.token_urlsafe(8)}{suffix}.{extension}"


def attachment_upload(*, actor: User, conversation_id, upload) -> Attachment:
    """Store one uploaded file for a message still to be sent in this conversation.

    `upload` is a Django UploadedFile (read in chunks; large ones are already on disk).
    Refusals (Invalid): `empty`, `too_large`, `over_quota`, `type_refused`; nothing is stored.
    """
    conversation, _membership = access_conversation(actor, conversation_id)
    size = upload.size or 0
    _check_limits(actor, size)
    attachment = Attachment(
        conversation=conversation, uploader=actor, name=clean_name(getattr(upload, "name", "")), size=size
    )
    image = images.open_image(upload)
    names: list[str] = []
    try:
        if image is not None:
            processed = images.process(image)
            attachment.kind = Attachment.Kind.IMAGE
            attachment.content_type = processed.content_type
            attachment.width, attachment.height = processed.width, processed.height
            attachment.size = _size(processed.full)
            _check_limits(actor, attachment.size + _size(processed.thumbnail))
            attachment.file = storage().save(_storage_name(attachment.pk, processed.extension), File(processed.full))
            names.append(attachment.file)
            attachment.thumbnail_size = _size(processed.thumbnail)
            thumb_name = _storage_name(attachment.pk, images.THUMBNAIL_TYPE[1], "-thumb")
            attachment.thumbnail = storage().save(thumb_name, File(processed.thumbnail))
            names.append(attachment.thumbnail)
        else:
            content_type = sniff(upload)
            if content_type in settings.ATTACHMENT_REFUSED_TYPES:
                raise Invalid("Programs cannot be shared here (that file is one).", code="type_refused")
            if content_type in images.INLINE_TYPES:
                # It starts like one of the four images, yet Pillow cannot read it: a damaged image,
                # refused rather than stored under an image type it does not hold.
                raise Invalid("That image could not be read: the file is damaged.", code="type_refused")
            attachment.kind = Attachment.Kind.FILE
            attachment.content_type = content_type
            upload.seek(0)
            attachment.file = storage().save(_storage_name(attachment.pk, "bin"), upload)
            names.append(attachment.file)
        with transaction.atomic():
            # Parallel uploads of one user queue here: each counts the others' stored rows,
            # so together they never pass the quota (the row lock; SQLite's write lock).
            User.objects.select_for_update().filter(pk=actor.pk).values_list("pk").first()
            _check_quota(actor, attachment.size + attachment.thumbnail_size)
            attachment.save(force_insert=True)
    except BaseException:
        for name in names:
            storage().delete(name)
        raise
    return attachment


def _size(stream: IO[bytes]) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def clean_ids(value: Any) -> list[str]:
    """A message's `attachments`: a list of at most ATTACHMENT_MAX_PER_MESSAGE distinct upload ids."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid("“attachments” must be a list of upload ids.", code="invalid")
    if len(value) > settings.ATTACHMENT_MAX_PER_MESSAGE:
        raise Invalid(f"A message can have at most {settings.ATTACHMENT_MAX_PER_MESSAGE} files.", code="invalid")
    ids = list(dict.fromkeys(value))
    if not all(_is_id(item) for item in ids):
        raise Invalid("Those files are not uploaded (or were already sent).", code="invalid")
    return ids


def attach(*, actor: User, message: Message, attachment_ids: list[str]) -> list[Attachment]:
    """Tie the actor's unsent uploads in the message's conversation to the message.

    Runs in the caller's transaction (message_send's); Invalid if any id is not such an upload,
    which rolls the message back too.
    """
    if not attachment_ids:
        return []
    found = {
        a.pk: a
        for a in Attachment.objects.select_for_update().filter(
            pk__in=attachment_ids, uploader=actor, conversation_id=message.conversation_id, message__isnull=True
        )
    }
    if len(found) != len(attachment_ids):
        raise Invalid("Those files are not uploaded (or were already sent).", code="invalid")
    attached = []
    for position, attachment_id in enumerate(attachment_ids):
        attachment = found[attachment_id]
        attachment.message, attachment.position = message, position
        attachment.save(update_fields=["message", "position"])
        attached.append(attachment)
    return attached


def delete_attachments(attachments: QuerySet[Attachment]) -> int:
    """Delete attachment rows now and their stored bytes once the caller's transaction commits."""
    count, _ = attachments.delete()
    return count


def delete_stored_after_commit(sender, instance: Attachment, **kwargs) -> None:
    """post_delete of every Attachment row, however it goes (a message erased or pruned, its
    conversation or group deleted, a cascade from anywhere): its bytes follow once the deleting
    transaction commits, and stay if it rolls back. Connected in MessagingConfig.ready()."""
    names = [name for name in (instance.file, instance.thumbnail) if name]
    if names:
        transaction.on_commit(lambda: _delete_stored(names))


def _delete_stored(names: Iterable[str]) -> None:
    store = storage()
    for name in names:
        store.delete(name)


def delete_for_messages(messages: QuerySet[Message]) -> int:
    """The files of these messages (message_erase and prune_messages call this)."""
    return delete_attachments(Attachment.objects.filter(message__in=messages.values("pk")))


def attachment_discard(*, actor: User, attachment_id: str) -> None:
    """The uploader takes back an upload not yet sent (the composer's remove button): the row and
    its bytes go now, and its size leaves the quota at once. Anything else, someone else's upload
    or one already sent with a message included, is NotFound, as a missing id."""
    with transaction.atomic():
        found = Attachment.objects.filter(pk=attachment_id, uploader=actor, message__isnull=True)
        if not _is_id(attachment_id):
            found = found.none()
        if not delete_attachments(found):
            raise NotFound("That upload does not exist, or it was already sent.")


def cleanup_unattached(*, now=None) -> int:
    """Delete uploads never sent with a message within ATTACHMENT_UNATTACHED_TTL."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ATTACHMENT_UNATTACHED_TTL)
    with transaction.atomic():
        return delete_attachments(Attachment.objects.filter(message__isnull=True, created_at__lt=cutoff))


# --- reads --------------------------------------------------------------------------------------


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """`{id, name, size, type, url, thumbnail_url, width, height}` as messages carry it."""
    url = reverse("messaging:attachment", args=[attachment.pk])
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "size": attachment.size,
        "type": attachment.content_type,
        "url": url,
        "thumbnail_url": reverse("messaging:attachment_thumbnail", args=[attachment.pk])
        if attachment.thumbnail
        else None,
        "width": attachment.width,
        "height": attachment.height,
    }


_ATTACHMENT_FIELDS = tuple(Attachment._meta.concrete_fields)
_ATTACHMENT_ATTNAMES = [f.attname for f in _ATTACHMENT_FIELDS]
# `Attachment.objects.filter(message_id__in=ids).order_by("message_id", "position")`, written out: the
# ORM compiled it anew for each page of messages (about 0.5 ms of CPU; bench/page_cpu.py), and a page of
# history usually has no file at all. tests/messaging/test_selectors.py holds the two equal.
_FOR_MESSAGES_SQL = (
    f"SELECT {', '.join(f.column for f in _ATTACHMENT_FIELDS)} "  # noqa: S608 (names from the model)
    f"FROM {connection.ops.quote_name(Attachment._meta.db_table)} "
    "WHERE message_id IN ({ids}) ORDER BY message_id, position"
)


def load_for_messages(messages: list[Message]) -> list[Message]:
    """Set `attachment_list` on each message: one query for all of them, none when none can have files."""
    live = [m.pk for m in messages if not m.deleted]
    by_message: dict[int, list[Attachment]] = {}
    if live:
        sql = _FOR_MESSAGES_SQL.format(ids=", ".join(["%s"] * len(live)))
        alias = connection.alias
        for row in rawsql.fetch(sql, live, _ATTACHMENT_FIELDS):
            attachment = Attachment.from_db(alias, _ATTACHMENT_ATTNAMES, row)
            by_message.setdefault(attachment.message_id, []).append(attachment)
    for message in messages:
        message.attachment_list = by_message.get(message.pk, [])
    return messages


def attachment_for_download(user, attachment_id: str) -> Attachment:
    """The attachment if the user may fetch it now: its conversation is theirs and its message is
    not deleted (an unsent upload: only its uploader). NotFound otherwise, the same as a missing id."""
    if not _is_id(attachment_id):
        raise NotFound("That file does not exist or you cannot see it.")
    attachment = (
        Attachment.objects.select_related("message").filter(pk=attachment_id).first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if attachment is None:
        raise NotFound("That file does not exist or you cannot see it.")
    if attachment.message_id is None:
        if attachment.uploader_id != user.pk:
            raise NotFound("That file does not exist or you cannot see it.")
    elif attachment.message.deleted:
        raise NotFound("That file does not exist or you cannot see it.")
    try:
        access_conversation(user, attachment.conversation_id)
    except NotFound:
        raise NotFound("That file does not exist or you cannot see it.") from None
    return attachment


def files_for_export(user: User) -> list[dict[str, Any]]:
    """The user's uploads for the data export: id, name, size, type, conversation, message seq, when."""
    rows = Attachment.objects.filter(uploader=user).select_related("message").order_by("created_at", "pk")
    return [
        {
            "id": a.pk,
            "name": a.name,
            "size": a.size,
            "type": a.content_type,
            "conversation": a.conversation_id,
            "seq": a.message.seq if a.message_id else None,  # the message it was sent with
            "created_at": a.created_at.isoformat(),
        }
        for a in rows.iterator()
    ]
