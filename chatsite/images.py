"""Images people upload, recognised from their content: the first look every image pipeline shares.

Only the four types browsers show safely (PNG, JPEG, GIF, WebP) are images here. `open_image`
reads the header alone and refuses a decompression bomb (over ATTACHMENT_MAX_PIXELS, over all
frames) before any pixel is decoded. Shared by the pictures in conversations (messaging/images.py)
and avatars (accounts/avatars.py), which sit in different layers; each re-encodes on its own terms.
"""

from typing import IO

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from chatsite.errors import Invalid

# Pillow format name -> (content type, file extension).
IMAGE_TYPES = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}


def open_image(upload: IO[bytes]) -> Image.Image | None:
    """The upload as a Pillow image if its content is one of the four types, else None.

    Only the header is read here. Refuses (Invalid `too_large`) an image whose pixels, over
    all its frames, pass ATTACHMENT_MAX_PIXELS, before anything is decoded.
    """
    upload.seek(0)
    try:
        image = Image.open(upload, formats=list(IMAGE_TYPES))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        # DecompressionBombError: past twice Pillow's own limit; refused below like any other bomb.
        upload.seek(0)
        return _bomb_or_none(upload)
    width, height = image.size
    frames = getattr(image, "n_frames", 1)
    if width * height * frames > settings.ATTACHMENT_MAX_PIXELS:
        raise Invalid(
            f"That image is too large to show ({width} x {height} pixels"
            f"{f', {frames} frames' if frames > 1 else ''}); images can be at most "
            f"{settings.ATTACHMENT_MAX_PIXELS // 1_000_000} megapixels.",
            code="too_large",
        )
    return image


def _bomb_or_none(upload: IO[bytes]) -> None:
    """Pillow refused to open it: say so for an image over its own pixel limit, else it is no image."""
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None  # only to read the header of what Pillow refused
        image = Image.open(upload, formats=list(IMAGE_TYPES))
        width, height = image.size
    except Exception:
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit
        upload.seek(0)
    raise Invalid(
        f"That image is too large to show ({width} x {height} pixels); images can be at most "
        f"{settings.ATTACHMENT_MAX_PIXELS // 1_000_000} megapixels.",
        code="too_large",
    )
