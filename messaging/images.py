"""Images shared in conversations: recognised from their content, re-encoded by Pillow.

Only the four types browsers show safely (PNG, JPEG, GIF, WebP) are images here; anything
else is a file. The stored image is a fresh encoding of the decoded pixels: camera metadata
(EXIF with GPS position, XMP, comments) is not carried over, and whatever bytes followed the
picture in the upload (a polyglot's HTML or archive) are gone. Orientation from EXIF is
applied to the pixels first, so photos stay upright without it.
"""

import tempfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps

from chatsite.errors import Invalid
from chatsite.images import IMAGE_TYPES, open_image  # noqa: F401 (open_image: part of this module's surface)

INLINE_TYPES = frozenset(content_type for content_type, _ext in IMAGE_TYPES.values())
# What survives re-encoding from the original's info: how to draw it, nothing about where or who.
_KEPT_INFO = ("transparency", "duration", "loop", "background", "icc_profile")
THUMBNAIL_TYPE = ("image/webp", "webp")


@dataclass
class ProcessedImage:
    content_type: str
    extension: str
    width: int
    height: int
    full: IO[bytes]  # the re-encoded image, at position 0
    thumbnail: IO[bytes]


def process(image: Image.Image) -> ProcessedImage:
    """Decode, re-encode without metadata, and make a thumbnail ATTACHMENT_THUMBNAIL_WIDTH wide."""
    content_type, extension = IMAGE_TYPES[image.format]
    animated = getattr(image, "n_frames", 1) > 1 and image.format in ("GIF", "WEBP")
    try:
        if animated:
            full = _encode_animation(image)
            first = image.copy()
        else:
            image.load()
            first = ImageOps.exif_transpose(image) or image
            full = _encode(first, image.format)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise Invalid("That image could not be read: the file is damaged.", code="type_refused") from None
    thumbnail = _thumbnail(first)
    return ProcessedImage(content_type, extension, first.width, first.height, full, thumbnail)


def _clean_info(image: Image.Image) -> None:
    image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    if "icc_profile" in image.info and image.format == "GIF":
        del image.info["icc_profile"]


def _spool() -> IO[bytes]:
    # In memory up to a few MiB, then on disk: a decoded image is bounded by the pixel limit,
    # its encoding by the upload limit.
    return tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)


def _encode(image: Image.Image, format_: str) -> IO[bytes]:
    _clean_info(image)
    out = _spool()
    options: dict = {}
    if "icc_profile" in image.info:
        options["icc_profile"] = image.info["icc_profile"]
    if format_ == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90, optimize=True, **options)
    elif format_ == "PNG":
        if "transparency" in image.info:
            options["transparency"] = image.info["transparency"]
        image.save(out, "PNG", optimize=False, **options)
    elif format_ == "GIF":
        image.save(out, "GIF", **{k: v for k, v in image.info.items() if k in ("transparency", "background")})
    else:
        image.save(out, "WEBP", quality=90, **options)
    out.seek(0)
    return out


def _encode_animation(image: Image.Image) -> IO[bytes]:
    """Every frame re-encoded, with its timing; nothing else of the original."""
    _clean_info(image)
    out = _spool()
    options = {"save_all": True, "duration": image.info.get("duration", 100), "loop": image.info.get("loop", 0)}
    image.save(out, image.format, **options)
    out.seek(0)
    return out


def _thumbnail(image: Image.Image) -> IO[bytes]:
    width = settings.ATTACHMENT_THUMBNAIL_WIDTH
    thumb = image.copy()
    thumb.info = {}
    if thumb.mode not in ("RGB", "RGBA"):
        thumb = thumb.convert("RGBA" if "transparency" in image.info or thumb.mode in ("LA", "PA") else "RGB")
    thumb.thumbnail((width, width * 2))
    out = _spool()
    thumb.save(out, "WEBP", quality=80)
    out.seek(0)
    return out
