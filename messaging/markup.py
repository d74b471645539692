"""The HTML of the chat pages' repeated pieces: messages, sidebar rows, members, topics.

These are written in Python rather than as template partials because a page repeats
them 50 and more times: through the template engine (about twenty variable lookups,
filters and a `{% csrf_token %}` each) the 50 messages and the sidebar took about 20 ms
of CPU per conversation page, built here well under 2 ms (bench/page_cpu.py); a list of
100 members cost another ~5 ms. The markup and its script hooks are described in
templates/messaging/conversation.html and _conversation_list.html; static/js/render.js
builds the same elements for live updates.

Everything from a user (names, titles) goes through `escape`; a message body is the HTML
rendered and sanitized once when it was stored (messaging.rendering), inserted as it is.
"""

import unicodedata
from datetime import date, datetime, timedelta
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from chatsite.paths import path_filler
from messaging.attachment_markup import attachments_html
from messaging.serializers import conversation_title, reply_json

# Consecutive messages of one author this close together (and on one day) share one name and avatar;
# static/js/history.js reads it from ol#messages[data-group-seconds].
MESSAGE_GROUP_SECONDS = 5 * 60
# Day names in English whatever the server's locale, as static/js/history.js writes them.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
PREVIEW_LENGTH = 90  # characters of the last message shown in a sidebar row
# The reaction picker's emoji (any single emoji is accepted; these are one click away).
REACTION_CHOICES = ("👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅")


def short_time(local: datetime, today: date) -> str:
    """ "14:05" today, "Mar 3, 14:05" this year, else with the year (`local`: in the current time zone)."""
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime(f"%b {local.day}, %H:%M")
    return local.strftime(f"%b {local.day} {local.year}, %H:%M")


def day_label(day: date, today: date) -> str:
    """ "Today", "Yesterday", "Wednesday, December 2", or with the year when it is not this one."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    label = f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}"
    return label if day.year == today.year else f"{label}, {day.year}"


def day_divider(day: date, today: date) -> str:
    """The heading above a day's first message (static/js/history.js builds the same)."""
    return (
        f'<li class="day-divider" data-day="{day.isoformat()}"><h2 class="day-label">{day_label(day, today)}</h2></li>'
    )


def initial(name: str | None) -> str:
    """The first letter of a name, for the round avatar."""
    name = (name or "?").strip()
    return name[:1].upper() or "?"


def avatar_color(user_id) -> int:
    """One of eight colours, stable per user, so the same person looks the same everywhere."""
    try:
        return int(user_id) % 8
    except (TypeError, ValueError):
        return 0


def avatar_html(user) -> str:
    """A user's round avatar: their picture, or the initial on their colour. `data-user-avatar` lets
    static/js/people.js swap it when `user.updated` says the picture changed (render.js `avatar`
    builds the same)."""
    url = user.avatar_url
    if url:
        return f'<img class="chat-avatar avatar-image" src="{escape(url)}" alt="" data-user-avatar="{user.pk}">'
    return (
        f'<span class="chat-avatar avatar-{avatar_color(user.pk)}" aria-hidden="true" data-user-avatar="{user.pk}">'
        f"{escape(initial(user.name))}</span>"
    )


def _preview(body: str) -> str:
    """`body|truncatechars:PREVIEW_LENGTH`, without the Truncator's set-up for the many that fit."""
    text = unicodedata.normalize("NFC", body)  # as the Truncator does
    return text if len(text) <= PREVIEW_LENGTH else Truncator(text).chars(PREVIEW_LENGTH)


def _csrf_input(csrf_token) -> str:
    """What `{% csrf_token %}` writes."""
    token = str(csrf_token or "")
    if not token or token == "NOTPROVIDED":  # noqa: S105 (what the csrf context processor gives without a request)
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(token)}">'


# Before the first unread message of a page opened at it (static/js/reading.js scrolls to it).
UNREAD_DIVIDER = '<li id="unread-divider" class="unread-divider"><span>New messages</span></li>'


def message_items(
    messages, *, viewer_id: int, conversation_id: int, csrf_token, unread_from: int | None = None
) -> SafeString:
    """The `<li class="message">` items of a conversation page, oldest first, with a day divider
    before each day's first message and "continued" on a message grouped under the one before it
    (same author, same day, within MESSAGE_GROUP_SECONDS), in the current time zone; the "New
    messages" divider before the message whose seq is `unread_from` (which starts a group).

    Each message carries `can_edit` and `can_delete`, set by the view from messaging.access.
    """
    zone = timezone.get_current_timezone()  # once, not per timestamp
    today = timezone.localdate()
    csrf_input = _csrf_input(csrf_token)
    edit_url = path_filler("messaging:message_edit", conversation_id)
    delete_url = path_filler("messaging:message_delete", conversation_id)
    reactions_url = path_filler("messaging:reaction_toggle", conversation_id)
    picker = _picker()
    heads: dict[int | None, tuple[str, str]] = {}  # author id -> (avatar, name), built once per author
    items = []
    previous = None  # (author id, created) of the message before
    group_gap = timedelta(seconds=MESSAGE_GROUP_SECONDS)
    for message in messages:
        seq = message.seq
        author_id = message.author_id
        deleted = message.deleted
        mine = author_id == viewer_id
        head = heads.get(author_id)
        if head is None:
            head = heads[author_id] = _message_head(author_id, message.author)
        created = message.created_at.astimezone(zone)
        unread_starts = seq == unread_from
        if unread_starts:  # above the day's heading, if the day starts here too
            items.append(UNREAD_DIVIDER)
        new_day = previous is None or previous[1].date() != created.date()
        if new_day:
            items.append(day_divider(created.date(), today))
        continued = (
            not new_day
            and not unread_starts
            and author_id is not None
            and previous[0] == author_id
            and timedelta(0) <= created - previous[1] <= group_gap
        )
        previous = (author_id, created)
        classes = (
            "message"
            + (" mine" if mine else "")
            + (" deleted" if deleted else "")
            + (" continued" if continued else "")
        )
        edited = ""
        if message.edited_at and not deleted:
            edited_at = message.edited_at.astimezone(zone)
            edited_title = edited_at.strftime(f"{edited_at.day} %b %Y %H:%M")
            edited = f' <span class="edited" title="Edited {edited_title}">(edited)</span>'
        # Rendered and sanitized when stored (messaging.rendering): inserted as it is.
        body = "This message was deleted." if deleted else message.html
        actions = source = ""
        can_edit, can_delete = getattr(message, "can_edit", False), getattr(message, "can_delete", False)
        if can_edit:  # the Markdown source, for the edit box
            source = f' data-body="{escape(message.body)}"'
        if can_edit or can_delete:
            edit = f'<a class="message-edit" href="{edit_url(seq)}">Edit</a>' if can_edit else ""
            delete = ""
            if can_delete:
                moderate = "" if mine else " (moderate)"
                delete = (
                    f'<form class="message-delete" method="post" action="{delete_url(seq)}">{csrf_input}'
                    f'<button type="submit" class="link-button">Delete{moderate}</button></form>'
                )
            actions = (
                '<details class="message-actions"><summary aria-label="Message actions" title="Message actions">⋯'
                f'</summary><div class="message-menu">{edit}{delete}</div></details>'
            )
        reactions = "" if deleted else _reactions(message, reactions_url(seq), csrf_input, picker)
        items.append(
            f'<li class="{classes}" id="m{seq}" data-seq="{seq}" data-id="{message.pk}" '
            f'data-author-id="{"" if author_id is None else author_id}"{source}>{head[0]}'
            f'<div class="message-content"><div class="message-meta">{head[1]} '
            f'<time class="message-time" datetime="{created.isoformat()}" '
            f'title="{created.strftime(f"%a, {created.day} %b %Y %H:%M")}">{short_time(created, today)}</time>'
            f'{edited}</div>{_reply_header(message, conversation_id)}<div class="message-body">{body}</div>'
            f"{attachments_html(message)}{reactions}"
            f"{actions}</div></li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 (user text escaped above)


def reply_line(reply: dict | None, conversation_id: int) -> str:
    """ "replying to @alice: first words…", linking to the original in its conversation."""
    if reply is None:
        return ""
    if reply["deleted"]:
        return '<p class="reply-to">replying to a deleted message</p>'
    author = escape(reply["author"]["username"])
    at = reverse("messaging:conversation", args=[conversation_id])
    return (
        f'<p class="reply-to"><a href="{at}?around={reply["seq"]}#m{reply["seq"]}" '
        f'data-seq="{reply["seq"]}">'
        f"replying to @{author}: {escape(reply['snippet'])}</a></p>"
    )


def _reply_header(message, conversation_id: int) -> str:
    if message.reply_to_id is None or message.deleted:
        return ""
    return reply_line(reply_json(message), conversation_id)


def _picker() -> str:
    buttons = "".join(
        f'<button type="submit" name="emoji" value="{emoji}" class="reaction-choice">{emoji}</button>'
        for emoji in REACTION_CHOICES
    )
    return (
        '<details class="reaction-picker"><summary aria-label="Add a reaction" title="Add a reaction">☺+</summary>'
        f'<div class="reaction-choices">{buttons}</div></details>'
    )


def _reactions(message, action: str, csrf_input: str, picker: str) -> str:
    """The reactions under a message, each a toggle button, and the picker: one form (no-JS)."""
    buttons = []
    for reaction in getattr(message, "reaction_list", ()):
        emoji = escape(reaction["emoji"])
        mine = reaction["mine"]
        buttons.append(
            f'<button type="submit" name="emoji" value="{emoji}" class="reaction{" mine" if mine else ""}" '
            f'aria-pressed="{"true" if mine else "false"}">{emoji} '
            f'<span class="reaction-count">{reaction["count"]}</span></button>'
        )
    return (
        f'<form class="reactions" method="post" action="{action}">{csrf_input}'
        f"{''.join(buttons)}{picker}"
        f'<a class="message-reply" href="?reply_to={message.seq}#composer">Reply</a></form>'
    )


def _message_head(author_id: int | None, author) -> tuple[str, str]:
    """A message's avatar and author name (escaped), "deleted user" once the account is gone."""
    if author is None:
        return (
            f'<span class="chat-avatar avatar-{avatar_color(author_id)}" aria-hidden="true">?</span>',
            '<span class="message-author">deleted user</span>',
        )
    return avatar_html(author), f'<span class="message-author">{escape(author.name)}</span>'


SECTION_STARRED = "starred"
SECTION_DIRECT = "direct"
# The cookie the sidebar script writes: the keys of the sections this browser keeps collapsed.
SIDEBAR_COLLAPSED_COOKIE = "sidebar_collapsed"


def section_key(conversation) -> str:
    """Which sidebar section a conversation sits in: `starred`, `group-<id>` or `direct`."""
    if getattr(conversation, "starred", False):
        return SECTION_STARRED
    if conversation.is_direct:
        return SECTION_DIRECT
    return f"group-{conversation.group_id}"


def collapsed_sections(cookie: str | None) -> set[str]:
    """The section keys named in the `sidebar_collapsed` cookie (anything else in it is ignored)."""
    keys = set()
    for key in (cookie or "").split(",")[:200]:
        key = key.strip()
        if key in (SECTION_STARRED, SECTION_DIRECT) or (key.startswith("group-") and key[6:].isdigit()):
            keys.add(key)
    return keys


def conversation_sections(conversations, *, viewer, active_id: int | None, collapsed: set[str]) -> SafeString:
    """The sidebar: "Starred" first, then one section per group (by name), then "Direct messages".

    Each is a `<details>` (collapsible without JavaScript) holding a `ul.conversation-list` of rows
    in the order given (newest activity first, muted last). A section the browser collapsed
    (`collapsed`, from the cookie) is rendered closed, so nothing jumps once scripts run.
    """
    sections: dict[str, list] = {}
    names: dict[str, str] = {SECTION_STARRED: "Starred", SECTION_DIRECT: "Direct messages"}
    for conversation in conversations:
        key = section_key(conversation)
        sections.setdefault(key, []).append(conversation)
        if key.startswith("group-"):
            names[key] = conversation.group.name
    groups = sorted((k for k in sections if k.startswith("group-")), key=lambda k: (names[k].casefold(), k))
    order = [k for k in (SECTION_STARRED, *groups, SECTION_DIRECT) if k in sections]
    html = []
    for key in order:
        rows = sections[key]
        unread = sum(c.unread for c in rows if not getattr(c, "muted", False))
        kind = "group" if key.startswith("group-") else key
        group_id = f' data-group-id="{key[6:]}"' if kind == "group" else ""
        html.append(
            f'<details class="sidebar-section" data-section="{key}" data-kind="{kind}"{group_id}'
            f'{"" if key in collapsed else " open"}><summary class="section-summary">'
            f'<span class="section-name">{escape(names[key])}</span>'
            f'<span class="section-badge" aria-label="{unread} unread"{"" if unread else " hidden"}>{unread}</span>'
            f'</summary><ul class="conversation-list">'
            f"{conversation_rows(rows, viewer=viewer, active_id=active_id)}</ul></details>"
        )
    return mark_safe("\n".join(html))  # noqa: S308 (user text escaped above and in conversation_rows)


def conversation_rows(conversations, *, viewer, active_id: int | None) -> SafeString:
    """The `<li class="conversation-row">` items of the sidebar, in the order given
    (selectors.conversations_for_user).

    A topic's name is "group / topic"; the group part is its own span, hidden by the stylesheet
    inside its group's section. The whole name is also the link's `title` (shown on hover)."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    current = ' aria-current="page"'
    conversation_url = path_filler("messaging:conversation")
    rows = []
    for conversation in conversations:
        pk = conversation.pk
        active = pk == active_id
        unread = conversation.unread
        mentions = getattr(conversation, "mentions", 0)
        full_title = escape(conversation_title(conversation, viewer))
        if conversation.is_direct:
            other_id = conversation.user_high_id if conversation.user_low_id == viewer.pk else conversation.user_low_id
            other = conversation.user_high if conversation.user_low_id == viewer.pk else conversation.user_low
            avatar = (
                avatar_html(other)
                if other is not None
                else f'<span class="chat-avatar avatar-{avatar_color(other_id)}" aria-hidden="true">?</span>'
            )
            title = full_title
            person = f' data-other-user-id="{other_id}"' if other_id else ""
        else:
            avatar = '<span class="chat-avatar avatar-topic" aria-hidden="true">#</span>'
            title = (
                f'<span class="conversation-group">{escape(conversation.group.name)} / </span>'
                f"{escape(conversation.name)}"
            )
            person = ""
        if conversation.last_message_at:
            at = conversation.last_message_at.astimezone(zone)
            time = f'<time class="conversation-time" datetime="{at.isoformat()}">{short_time(at, today)}</time>'
        else:
            time = '<time class="conversation-time"></time>'
        if not conversation.last_seq:
            preview = "No messages yet"
        elif conversation.last_deleted:
            preview = "Message deleted"
        else:
            preview = escape(_preview(conversation.last_body or ""))
        rows.append(
            f'<li class="conversation-row{" active" if active else ""}{" has-unread" if unread else ""}'
            f'{" muted" if getattr(conversation, "muted", False) else ""}" '
            f'data-conversation-id="{pk}" data-last-seq="{conversation.last_seq}" data-kind="{conversation.kind}"'
            f"{person}>"
            f'<a href="{conversation_url(pk)}" title="{full_title}"{current if active else ""}>{avatar}'
            f'<span class="conversation-name">{title}</span>{time}'
            f'<span class="conversation-preview">{preview}</span>'
            f'<span class="badge" aria-label="{unread} unread"{"" if unread else " hidden"}>{unread}</span>'
            f'<span class="mention-badge" aria-label="{mentions} mentions of you"{"" if mentions else " hidden"}>'
            f"@{mentions}</span></a></li>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (user text escaped above)


def member_items(members, *, viewer_id: int) -> SafeString:
    """The `<li data-user-id>` items of the conversation page's member list
    (selectors.conversation_members: users with `role`)."""
    items = []
    profile_url = path_filler("people:profile")  # usernames need no quoting
    for member in members:
        you = ' <span class="muted small">(you)</span>' if member.pk == viewer_id else ""
        role = getattr(member, "role", None)
        badge = f' <span class="role role-{role}">{role}</span>' if role in ("owner", "admin") else ""
        items.append(
            f'<li data-user-id="{member.pk}"><span class="presence" aria-hidden="true"></span>'
            f'<a class="person-name" href="{profile_url(escape(member.username))}">'
            f"{escape(member.name)}</a>{you}{badge}</li>"
        )
    return mark_safe("\n".join(items))  # noqa: S308 (user text escaped above)


def topic_items(topics, *, active_id: int) -> SafeString:
    """The `<li data-conversation-id>` items of a group's conversations on the conversation page."""
    conversation_url = path_filler("messaging:conversation")
    items = []
    for topic in topics:
        pk = topic.pk
        marks = (' class="active"', ' aria-current="page"') if pk == active_id else ("", "")
        items.append(
            f'<li data-conversation-id="{pk}"{marks[0]}>'
            f'<a href="{conversation_url(pk)}"{marks[1]}># {escape(topic.name)}</a></li>'
        )
    return mark_safe("\n".join(items))  # noqa: S308 (user text escaped above)
