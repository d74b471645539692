"""Template filters of the chat pages: safe links in message bodies, titles, times."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import Urlizer
from django.utils.safestring import SafeString, mark_safe

from messaging.models import Conversation
from messaging.serializers import conversation_title

register = template.Library()


class _ExternalLinks(Urlizer):
    """Django's urlizer, with links that cannot reach back into the page or pass ranking.

    `noopener` stops the opened page from scripting this one through `window.opener`;
    `nofollow` tells search engines the link is user content.
    """

    url_template = '<a href="{href}" rel="noopener nofollow" target="_blank">{url}</a>'


_linker = _ExternalLinks()


@register.filter(is_safe=False, needs_autoescape=False)
def linkify(value) -> SafeString:
    """Escape a message body and turn its URLs into links. Line breaks stay (CSS `pre-wrap`)."""
    # "".join gives a plain str even from SafeData, so the text is always escaped.
    text = "".join([str(value or "")])
    # Safe to mark: every piece of user text was escaped by the urlizer (autoescape=True).
    return mark_safe(_linker(text, trim_url_limit=60, nofollow=False, autoescape=True))  # noqa: S308


@register.filter
def title_for(conversation: Conversation, viewer) -> str:
    """What `viewer` calls the conversation: "group / topic", or the other person's name."""
    return conversation_title(conversation, viewer)


@register.filter
def chat_time(value: datetime | None) -> str:
    """Short time for a message: "14:05" today, "Mar 3, 14:05" this year, else with the year."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    now = timezone.localtime()
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return f"{local.strftime('%b')} {local.day}, {local.strftime('%H:%M')}"
    return f"{local.strftime('%b')} {local.day} {local.year}, {local.strftime('%H:%M')}"


@register.filter
def initial(name: str) -> str:
    """The first letter of a name, for the round avatar."""
    name = (name or "?").strip()
    return name[:1].upper() or "?"


@register.filter
def avatar_color(user_id) -> int:
    """One of eight colours, stable per user, so the same person looks the same everywhere."""
    try:
        return int(user_id) % 8
    except (TypeError, ValueError):
        return 0
