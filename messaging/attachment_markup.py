"""The HTML of a message's files, under its text: image thumbnails and file cards.

static/js/attachments.js builds the same elements for messages that arrive live.
Names are escaped; URLs are the app's own access-checked ones.
"""

from html import escape

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

from messaging.attachments import attachment_json, format_size


def thumbnail_box(width: int | None, height: int | None) -> tuple[int, int]:
    """The thumbnail's size: ATTACHMENT_THUMBNAIL_WIDTH wide at most, twice that tall at most."""
    if not width or not height:
        return 0, 0
    box = settings.ATTACHMENT_THUMBNAIL_WIDTH
    scale = min(box / width, 2 * box / height, 1)
    return max(1, round(width * scale)), max(1, round(height * scale))


def attachments_html(message) -> SafeString:
    """`<ul class="attachments">` for a message's `attachment_list` (empty for none or deleted)."""
    files = [] if message.deleted else getattr(message, "attachment_list", [])
    if not files:
        return mark_safe("")
    items = []
    for attachment in files:
        data = attachment_json(attachment)
        name = escape(data["name"])
        url = escape(data["url"])
        if data["thumbnail_url"]:
            width, height = thumbnail_box(data["width"], data["height"])
            items.append(
                f'<li class="attachment image" data-attachment-id="{escape(data["id"])}">'
                f'<a href="{url}" target="_blank" rel="noopener" title="{name}">'
                f'<img src="{escape(data["thumbnail_url"])}" alt="{name}" width="{width}" height="{height}" '
                f'loading="lazy"></a></li>'
            )
        else:
            meta = f"{format_size(data['size'])} · {escape(data['type'])}"
            items.append(
                f'<li class="attachment file" data-attachment-id="{escape(data["id"])}">'
                f'<a href="{url}" download="{name}"><span class="file-icon" aria-hidden="true">📄</span>'
                f'<span class="file-name">{name}</span><span class="file-meta">{meta}</span></a></li>'
            )
    return mark_safe(f'<ul class="attachments">{"".join(items)}</ul>')  # noqa: S308 (user text escaped above)
