"""Template filters and tags of the chat pages: titles, times,
and the repeated pieces of the conversation page (built in `messaging.markup`)."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from messaging import markup
from messaging.models import Conversation
from messaging.serializers import conversation_title

register = template.Library()


@register.filter
def title_for(conversation: Conversation, viewer) -> str:
    """What `viewer` calls the conversation: "group / topic", or the other person's name."""
    return conversation_title(conversation, viewer)


@register.filter
def chat_time(value: datetime | None) -> str:
    """Short time for a message: "14:05" today, "Mar 3, 14:05" this year, else with the year."""
    if value is None:
        return ""
    return markup.short_time(timezone.localtime(value), timezone.localdate())


@register.filter
def initial(name: str) -> str:
    """The first letter of a name, for the round avatar."""
    return markup.initial(name)


@register.filter
def avatar_color(user_id) -> int:
    """One of eight colours, stable per user, so the same person looks the same everywhere."""
    return markup.avatar_color(user_id)


@register.filter
def avatar(user) -> SafeString:
    """`{{ member|avatar }}`: the user's round avatar, their picture or their initial (markup.avatar_html)."""
    return mark_safe(markup.avatar_html(user))  # noqa: S308 (escaped in avatar_html)


@register.simple_tag(takes_context=True)
def message_items(context, messages) -> SafeString:
    """`{% message_items page_messages %}`: the conversation page's message list items."""
    return markup.message_items(
        messages,
        viewer_id=context["user"].pk,
        conversation_id=context["conversation"].pk,
        csrf_token=context.get("csrf_token"),
        unread_from=context.get("unread_from"),
    )


@register.simple_tag(takes_context=True)
def conversation_sections(context, conversations, active_id=None) -> SafeString:
    """`{% conversation_sections conversations active_id %}`: the sidebar's sections and rows, those this
    browser collapsed (its `sidebar_collapsed` cookie) rendered closed."""
    request = context.get("request")
    cookie = request.COOKIES.get(markup.SIDEBAR_COLLAPSED_COOKIE) if request is not None else None
    return markup.conversation_sections(
        conversations, viewer=context["user"], active_id=active_id, collapsed=markup.collapsed_sections(cookie)
    )


@register.simple_tag(takes_context=True)
def member_items(context, members) -> SafeString:
    """`{% member_items members %}`: the conversation page's member list items."""
    return markup.member_items(members, viewer_id=context["user"].pk)


@register.simple_tag(takes_context=True)
def topic_items(context, topics) -> SafeString:
    """`{% topic_items group_conversations %}`: the group's conversations, the open one marked."""
    return markup.topic_items(topics, active_id=context["conversation"].pk)
