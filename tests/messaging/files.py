"""Test files made on the spot: real images (Pillow), a photo with GPS EXIF, lying names."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_bytes(fmt: str = "PNG", size=(640, 480), color=(200, 30, 30), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGB" if fmt in ("JPEG",) else "RGBA" if fmt in ("PNG", "WEBP") else "P"
    image = Image.new(mode, size, color if mode != "P" else 1)
    image.save(out, fmt, **save)
    return out.getvalue()


def gps_jpeg(size=(800, 600)) -> bytes:
    """A JPEG "photo" with a GPS position, camera make and a comment in its metadata."""
    image = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    gps = {1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)}  # latitude / longitude
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def post_upload(client, conversation_id, name, content, content_type="application/octet-stream"):
    return client.post(f"/chats/{conversation_id}/attachments/", {"file": upload(name, content, content_type)})


def form_send(client, conversation_id, body="", files=(), attachments=()):
    """The composer form as a browser without JavaScript posts it (multipart/form-data)."""
    data = {"body": body}
    if files:
        data["files"] = [upload(name, content, ctype) for name, content, ctype in files]
    if attachments:
        data["attachments"] = list(attachments)
    return client.post(f"/chats/{conversation_id}/", data)


def latest_json(client, conversation_id) -> dict:
    return client.get(f"/chats/{conversation_id}/messages/").json()["messages"][-1]
