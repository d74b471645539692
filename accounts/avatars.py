"""Avatars: one square picture per user, in place of the initial wherever the user is shown.

An upload is recognised from its content (chatsite.images: PNG, JPEG, GIF or WebP, the
decompression-bomb limit), turned upright from its EXIF orientation, cropped to its centre
square and re-encoded as a WebP AVATAR_SIZE pixels wide: nothing of the original file is kept
(no EXIF, GPS position, comments, trailing bytes; an animation keeps its first frame). It is
stored in the `attachments` storage under a random name, which is also its version in the
URL (`?v=`), so a new picture is a new URL and a browser never shows the old one from cache.

The user row holds the storage name (`User.avatar`, empty for none); accounts.services writes
it; the people app serves it (`GET /people/<username>/avatar/`, docs/protocol.md "People").
"""

import io
import secrets
from functools import cache
from typing import IO
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from PIL import Image, ImageOps

from chatsite.errors import Invalid
from chatsite.images import open_image
from chatsite.paths import path_filler
from chatsite.uploads import format_size

CONTENT_TYPE = "image/webp"
_PREFIX = "avatars/"


def storage() -> Storage:
    return storages["attachments"]


def version(name: str) -> str:
    """The random part of a storage name: the `?v=` of its URL."""
    return name.rsplit("/", 1)[-1].split(".", 1)[0]


def avatar_url(username: str, name: str | None) -> str | None:
    """Where a user's avatar is served, with its version; None when they have none."""
    if not name:
        return None
    return f"{_avatar_path()(quote(username, safe='@+'))}?v={version(name)}"


@cache
def _avatar_path():
    """The avatar route reversed once: every author of a page or frame has their user object built."""
    return path_filler("people:avatar")


def too_large() -> Invalid:
    return Invalid(
        f"That picture is too large; choose one of at most {format_size(settings.AVATAR_MAX_BYTES)}.",
        code="too_large",
    )


def encode(upload: IO[bytes]) -> bytes:
    """The square AVATAR_SIZE WebP of an uploaded picture, without any of its metadata.

    Invalid: `empty`, `too_large` (bytes or pixels), `type_refused` (not one of the four types:
    an SVG, a document, a damaged file).
    """
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size == 0:
        raise Invalid("That file is empty.", code="empty")
    if size > settings.AVATAR_MAX_BYTES:
        raise too_large()
    image = open_image(upload)
    if image is None:
        raise Invalid("Choose a PNG, JPEG, GIF or WebP picture.", code="type_refused")
    try:
        image.seek(0)
        image.load()
        upright = ImageOps.exif_transpose(image) or image
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
        pixels = upright.convert(mode)
        side = settings.AVATAR_SIZE
        square = ImageOps.fit(pixels, (side, side), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise Invalid("That picture could not be read: the file is damaged.", code="type_refused") from None
    # A fresh image: only pixels, whatever the decoder put in `info`.
    clean = Image.new(mode, square.size)
    clean.paste(square)
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=85)
    return out.getvalue()


def save(data: bytes) -> str:
    """Store an encoded avatar under a new random name; returns the name."""
    token = secrets.token_urlsafe(12)
    return storage().save(f"{_PREFIX}{token[:2]}/{token}.webp", ContentFile(data))


def delete(name: str | None) -> None:
    if name:
        storage().delete(name)
