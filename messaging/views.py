"""Pages and JSON endpoints of conversations and messages (docs/protocol.md).

Every view is a thin adapter: it parses input, passes through the access gate
(`messaging.access.access_conversation`, `groups.access.access_group`) and one
service or selector, and renders. Domain errors become HTTP once, through the decorator of
the response type (chatsite/http.py): `domain_errors` for pages, `json_errors` for JSON,
`page_or_json_errors` for endpoints that answer both; a refused form shows the error on its
field (`form_error`).
Everything works without JavaScript; scripts only enhance these pages.
"""

from functools import cache
from typing import Any

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import user_time_zone
from chatsite.errors import Invalid, NotFound, RateLimited
from chatsite.http import (
    domain_errors,
    form_error,
    form_invalid,
    json_errors,
    page_or_json_errors,
    retry_after,
    wants_json,
)
from chatsite.numbers import MAX_DIGITS, whole_number
from chatsite.uploads import upload_limit, upload_stopped
from groups.access import access_group, can_moderate
from groups.access import require_manager as check_manager
from messaging import file_views, markup, selectors, services, unread
from messaging.access import access_conversation, can_delete, can_edit, check_can_edit
from messaging.forms import DirectForm, EditForm, MessageForm, TopicForm
from messaging.models import Conversation, Message
from messaging.serializers import conversation_title, message_json, reply_json, snippet

# Opened with unread messages, the page shows this many read ones above the first unread (context).
UNREAD_CONTEXT = 3
# Set by static/js/scripts_on.js: this browser runs the page's scripts, which move the read marker as messages
# scroll into view; without it, rendering a page marks read up to its last message.
SCRIPTS_READ_COOKIE = "chat_js"
# The member list shows this many; "seen by" is shown for conversations up to SEEN_BY_MAX_MEMBERS.
MEMBERS_SHOWN = 100
SEEN_BY_MAX_MEMBERS = 50
MISSING_MESSAGE = "That message does not exist."


def _conversation_url(conversation_id: int) -> str:
    return reverse("messaging:conversation", args=[conversation_id])


def _whole_number(query, name: str) -> int | None:
    """A query parameter as a whole number ≥ 0, None when absent; checked for length before it is
    converted (`chatsite.numbers.whole_number`): a 5,000-digit value is a 400, not a 500."""
    raw = query.get(name)
    if raw is None:
        return None
    value = whole_number(raw)
    if value is None:
        raise Invalid(f"{name} must be a whole number of zero or more, at most {MAX_DIGITS} digits.", code="invalid")
    return value


def _history_params(query) -> dict[str, int | None]:
    """`before`, `after`: whole numbers ≥ 0; `limit`: 1 to HISTORY_MAX_LIMIT (default HISTORY_PAGE_SIZE)."""
    params = {name: _whole_number(query, name) for name in ("before", "after", "limit")}
    limit = params["limit"]
    if limit is None:
        params["limit"] = settings.HISTORY_PAGE_SIZE
    elif not 1 <= limit <= settings.HISTORY_MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {settings.HISTORY_MAX_LIMIT}.", code="invalid")
    return params


# --- Pages --------------------------------------------------------------------------------------


def _sidebar(user) -> list[Conversation]:
    return list(selectors.conversations_for_user(user))


@require_GET
@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    """All of the user's conversations, newest activity first, with unread counts."""
    return render(request, "messaging/list.html", {"conversations": _sidebar(request.user)})


def _conversation_context(
    request: HttpRequest,
    conversation: Conversation,
    membership,
    *,
    form: MessageForm,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    opened: bool = False,
    mark_read: bool = False,
    reply_to: int | None = None,
) -> dict[str, Any]:
    """Everything the conversation page shows, in a fixed number of queries.

    Opened plainly (`opened`: no paging parameter) with unread messages, the page is the window that
    starts UNREAD_CONTEXT messages before the first unread one, with a "New messages" divider there.
    `mark_read` moves the read marker to the last message rendered, never further (`_mark_read`)."""
    user = request.user
    conversations = _sidebar(user)
    row = next((c for c in conversations if c.pk == conversation.pk), None)
    first_unread = None
    if opened and row is not None and row.unread:
        first_unread = unread.first_unread_seq(user, conversation.pk, read_seq=row.read_seq)
        if first_unread is not None:
            after = max(first_unread - 1 - UNREAD_CONTEXT, 0)
    if around is not None:  # opened at a message (a search result): it and its neighbours
        messages, has_older, has_newer = selectors.messages_around(conversation, around)
    elif after is not None:
        messages, has_more = selectors.messages_page(conversation, before=before, after=after)
        # Seqs run 1, 2, 3… without gaps (deleted messages keep theirs), so older ones exist below the first.
        has_older = bool(messages) and messages[0].seq > 1
        has_newer = has_more
    else:
        messages, has_more = selectors.messages_page(conversation, before=before)
        has_older = has_more
        has_newer = bool(messages) and messages[-1].seq < conversation.last_seq
    is_latest = not has_newer and before is None and (after is None or first_unread is not None)
    last_seq = messages[-1].seq if messages else 0
    if mark_read and messages:
        _mark_read(user, conversation, row, messages[-1].seq)
    shown_unread = first_unread is not None and any(m.seq == first_unread for m in messages)
    selectors.attach_replies(messages)
    selectors.attach_reactions(messages, user.pk)
    for message in messages:
        message.can_edit = can_edit(user, message)
        message.can_delete = not message.deleted and can_delete(user, message, membership)
    members = selectors.conversation_members(conversation, limit=MEMBERS_SHOWN + 1)
    seen_by = _seen_by(user, messages[-1] if messages and is_latest else None, members)
    return {
        "conversation": conversation,
        "membership": membership,
        "can_moderate": can_moderate(membership),
        "page_messages": messages,  # not "messages": that name belongs to django.contrib.messages
        # The first unread message, where the "New messages" divider goes (None: no divider).
        "unread_from": first_unread if shown_unread else None,
        "unread_divider": shown_unread,
        "reaction_choices": " ".join(markup.REACTION_CHOICES),
        "has_older": has_older,
        "has_newer": has_newer,
        "is_latest": is_latest,
        "around": around,
        "older_url": f"?before={messages[0].seq}" if messages and has_older else None,
        "newer_url": f"?after={last_seq}" if messages and has_newer else None,
        "last_seq": last_seq,
        "members": members[:MEMBERS_SHOWN],
        "more_members": len(members) > MEMBERS_SHOWN,
        "seen_by": seen_by,
        "group_conversations": _group_conversations(conversation, conversations),
        "conversations": conversations,
        "form": form,
        "composer_field": form["body"] if form.is_bound else _blank_field(MessageForm, "body"),
        "topic_form": TopicForm(),
        "topic_field": _blank_field(TopicForm, "name"),
        "max_length": settings.MESSAGE_MAX_LENGTH,
        "replying_to": _replying_to(conversation, reply_to),
        "muted": row is not None and row.muted,
        "starred": row is not None and row.starred,
        "max_files": settings.ATTACHMENT_MAX_PER_MESSAGE,
        "max_file_bytes": settings.ATTACHMENT_MAX_BYTES,
    }


def _replying_to(conversation: Conversation, reply_to: int | None) -> dict | None:
    """The composer's "replying to" (no-JS: `?reply_to=<seq>`): the original as a reply shows it,
    or None (not a reply, or a seq that names no message here: the page that refused the post says why)."""
    original = selectors.message_by_seq(conversation, reply_to) if reply_to else None
    return None if original is None else reply_json(Message(reply_to=original))


def _reply_to_param(conversation: Conversation, query) -> int | None:
    """`?reply_to=<seq>`: a whole number, as `before`/`after` are (else 400), naming a message of
    this conversation, as a message's own path does (else 404, as for any missing message)."""
    seq = _whole_number(query, "reply_to")
    if seq is not None and selectors.message_by_seq(conversation, seq) is None:
        raise NotFound(MISSING_MESSAGE)
    return seq


def _latest_param(query) -> bool:
    """`?latest=1`: the newest messages whatever is unread ("Jump to the latest"); any other value is a 400,
    as a malformed `before` is."""
    raw = query.get("latest")
    if raw is not None and raw != "1":
        raise Invalid("latest must be 1 (the newest messages), or left out.", code="invalid")
    return raw is not None


@cache
def _blank_field(form_class: type[Form], name: str) -> str:
    """An empty form's field: the same HTML on every page, so rendered once per process, not
    through the widget templates on each view (~0.3 ms of CPU for the two on this page)."""
    return str(form_class()[name])


def _group_conversations(conversation: Conversation, conversations: list[Conversation]) -> list[Conversation]:
    """The group's conversations, oldest first. A member sees every one of them, so the
    sidebar already holds them all: no query of their own."""
    if conversation.is_direct:
        return []
    topics = [c for c in conversations if c.group_id == conversation.group_id and not c.is_direct]
    return sorted(topics, key=lambda c: (c.created_at, c.pk))


def _mark_read(user, conversation: Conversation, row: Conversation | None, seq: int) -> None:
    """Rendering a page reads the conversation up to its last message rendered (never back, never
    beyond: the reader has not seen what the page does not show). The sidebar row follows."""
    if row is not None and row.read_seq >= seq:
        return
    services.read_mark(actor=user, conversation_id=conversation.pk, seq=seq)
    if row is not None:
        row.read_seq = seq
        row.unread, row.mentions = unread.counts(user, [conversation.pk]).get(conversation.pk, (0, 0))


def _seen_by(viewer, latest: Message | None, members: list) -> list:
    """Who (besides the viewer and the author) has read up to the latest message, furthest first.

    Members carry their read marker (`selectors.conversation_members`); only small
    conversations show it, where `members` is the whole list.
    """
    if latest is None or len(members) > SEEN_BY_MAX_MEMBERS:
        return []
    readers = [m for m in members if m.read_seq >= latest.seq and m.pk not in (viewer.pk, latest.author_id)]
    return sorted(readers, key=lambda m: -m.read_seq)


def _render_conversation(
    request: HttpRequest, conversation, membership, *, status: int = 200, **kwargs
) -> HttpResponse:
    """The page in the viewer's time zone when they chose one (times, day dividers), else the site's."""
    zone = user_time_zone(request.user)
    with timezone.override(zone or timezone.get_current_timezone()):
        context = _conversation_context(request, conversation, membership, **kwargs)
        context["time_zone"] = request.user.time_zone if zone else ""
        context["group_seconds"] = markup.MESSAGE_GROUP_SECONDS
        return render(request, "messaging/conversation.html", context, status=status)


@upload_limit(file_bytes="ATTACHMENT_MAX_BYTES", files="ATTACHMENT_MAX_PER_MESSAGE")
@require_http_methods(["GET", "POST"])
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The conversation page (GET), and the composer's post: post/redirect/get for a form, or
    201 JSON for a script that accepts JSON (`wants_json`), as the edit and reaction posts answer."""
    if request.method == "POST" and wants_json(request):
        return _composer_json(request, conversation_id)
    return _conversation_page(request, conversation_id)


def _composer_send(request: HttpRequest, conversation: Conversation, form: MessageForm, reply_to) -> Message:
    """Store the composer's message with its files (`files`: the form's file input, multipart, works
    without JavaScript; `attachments`: ids of files the page's script uploaded already)."""
    file_views.check_upload_stopped(request)
    return file_views.send_with_files(
        request.user,
        conversation.pk,
        form.cleaned_data["body"],
        files=request.FILES.getlist("files"),
        attachment_ids=request.POST.getlist("attachments"),
        reply_to=reply_to,
    )


def _composer_form(request: HttpRequest) -> MessageForm:
    with_files = bool(request.FILES.getlist("files") or request.POST.getlist("attachments")) or upload_stopped(request)
    return MessageForm(request.POST, with_files=with_files)


@json_errors
def _composer_json(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """201 `{"message": <message>}`; a refusal is `{"error", "detail"}` with its status (the code
    the socket's `message.send` sends for the same input)."""
    conversation, _membership = access_conversation(request.user, conversation_id)
    form = _composer_form(request)
    if not form.is_valid():
        raise form_invalid(form)
    message = _composer_send(request, conversation, form, request.POST.get("reply_to") or None)
    return JsonResponse({"message": message.as_json}, status=201)


@login_required
@domain_errors
def _conversation_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation, membership = access_conversation(request.user, conversation_id)
    if request.method == "POST":
        form = _composer_form(request)
        reply_to = request.POST.get("reply_to") or None
        reply_seq = whole_number(reply_to)  # shown again above the box if the page comes back
        if not form.is_valid():
            return _render_conversation(request, conversation, membership, form=form, status=400, reply_to=reply_seq)
        try:
            _composer_send(request, conversation, form, reply_to)
        except (RateLimited, Invalid) as error:
            # The page again, the text kept in the composer, with what happened: nothing was stored.
            status = form_error(form, "body", error)
            page = _render_conversation(request, conversation, membership, form=form, status=status, reply_to=reply_seq)
            return retry_after(page, error)
        # The newest messages, the one just sent among them (not back to the first unread one).
        return redirect(f"{_conversation_url(conversation.pk)}?latest=1")
    params = _history_params(request.GET)
    around = _whole_number(request.GET, "around")
    latest = _latest_param(request.GET)
    return _render_conversation(
        request,
        conversation,
        membership,
        form=MessageForm(),
        before=params["before"],
        after=params["after"],
        around=around,
        opened=params["before"] is None and params["after"] is None and around is None and not latest,
        # With scripts the page reports what scrolls into view (static/js/reading.js) instead.
        mark_read=request.COOKIES.get(SCRIPTS_READ_COOKIE) != "1",
        reply_to=_reply_to_param(conversation, request.GET),
    )


@require_GET
@json_errors
def message_history(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """`{"messages": [...], "has_more": bool}`: a page of history, oldest first."""
    conversation, _membership = access_conversation(request.user, conversation_id)
    params = _history_params(request.GET)
    messages, has_more = selectors.messages_page(
        conversation, before=params["before"], after=params["after"], limit=params["limit"]
    )
    selectors.attach_replies(messages)
    selectors.attach_reactions(messages, request.user.pk)
    return JsonResponse({"messages": [message_json(m) for m in messages], "has_more": has_more})


def _message_or_404(conversation: Conversation, seq: int) -> Message:
    message = selectors.message_by_seq(conversation, seq)
    if message is None:
        raise NotFound(MISSING_MESSAGE)
    return message


@require_http_methods(["GET", "POST"])
@page_or_json_errors
def message_edit(request: HttpRequest, conversation_id: int, seq: int) -> HttpResponse:
    """GET: the edit form (no-JS). POST `body`: the author changes their message."""
    conversation, _membership = access_conversation(request.user, conversation_id)
    message = _message_or_404(conversation, seq)
    check_can_edit(request.user, message)
    form = EditForm(request.POST if request.method == "POST" else None, initial={"body": message.body})
    if request.method == "POST":
        if form.is_valid():
            try:
                message = services.message_edit(
                    actor=request.user,
                    conversation_id=conversation.pk,
                    seq=message.seq,
                    body=form.cleaned_data["body"],
                )
            except RateLimited as error:
                if wants_json(request):
                    raise
                status = form_error(form, "body", error)
                context = {"conversation": conversation, "message": message, "form": form}
                return retry_after(render(request, "messaging/edit.html", context, status=status), error)
            if wants_json(request):
                return JsonResponse({"message": message_json(message)})
            return redirect(_conversation_url(conversation.pk))
        if wants_json(request):
            raise form_invalid(form)
    context = {"conversation": conversation, "message": message, "form": form}
    return render(request, "messaging/edit.html", context, status=400 if form.is_bound else 200)


@require_POST
@page_or_json_errors
def message_delete(request: HttpRequest, conversation_id: int, seq: int) -> HttpResponse:
    """The author deletes their message; a group's owner and admins delete any. The seq stays."""
    message = services.message_delete(actor=request.user, conversation_id=conversation_id, seq=seq)
    if wants_json(request):
        return JsonResponse({"message": message_json(message)})
    return redirect(_conversation_url(message.conversation_id))


@require_POST
@page_or_json_errors
def conversation_mute(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Toggle muting the conversation: back to its page (no-JS), or JSON `{"conversation", "muted"}`."""
    muted = services.conversation_mute_toggle(actor=request.user, conversation_id=conversation_id)
    return _toggled(request, conversation_id, muted=muted)


@require_POST
@page_or_json_errors
def conversation_star(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Toggle starring the conversation: back to its page (no-JS), or JSON `{"conversation", "starred"}`."""
    starred = services.conversation_star_toggle(actor=request.user, conversation_id=conversation_id)
    return _toggled(request, conversation_id, starred=starred)


def _toggled(request: HttpRequest, conversation_id: int, **state: bool) -> HttpResponse:
    """A per-user switch of a conversation was flipped: JSON `{"conversation", <switch>: bool}`, or
    back to the conversation's page (no-JS)."""
    if wants_json(request):
        return JsonResponse({"conversation": conversation_id, **state})
    return redirect(_conversation_url(conversation_id))


@require_POST
@page_or_json_errors
def conversation_read(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """ "Mark as read": the conversation read up to its last message. Back to the conversation
    (no-JS), or JSON `{"conversation", "seq"}`; every tab of the user gets `unread`."""
    conversation, _membership = access_conversation(request.user, conversation_id)
    seq = services.read_mark(actor=request.user, conversation_id=conversation.pk, seq=conversation.last_seq)
    if wants_json(request):
        return JsonResponse({"conversation": conversation.pk, "seq": seq})
    return redirect(_conversation_url(conversation.pk))


@require_POST
@page_or_json_errors
def read_all(request: HttpRequest) -> HttpResponse:
    """ "Mark all as read": every conversation of the user. Back to `next` (a page of this site,
    else /chats/), or JSON `{"conversations": [ids whose marker moved]}`."""
    moved = services.read_mark_all(actor=request.user)
    if wants_json(request):
        return JsonResponse({"conversations": sorted(moved)})
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("messaging:list")
    return redirect(target)


@require_GET
@login_required
def mention_list(request: HttpRequest) -> HttpResponse:
    """The user's recent mentions, newest first, each linking to the message in its conversation."""
    mentions = selectors.recent_mentions(request.user)
    items = [
        {
            "mention": mention,
            "title": conversation_title(mention.conversation, request.user),
            "snippet": snippet(mention.message.body, 160),
            "url": f"{_conversation_url(mention.conversation_id)}?around={mention.seq}#m{mention.seq}",
        }
        for mention in mentions
    ]
    return render(request, "messaging/mentions.html", {"items": items, "conversations": _sidebar(request.user)})


@require_POST
@page_or_json_errors
def reaction_toggle(request: HttpRequest, conversation_id: int, seq: int) -> HttpResponse:
    """POST `emoji`: add the user's reaction to a message, or take it back. Back to the message
    in the page (no-JS), or JSON `{"conversation", "seq", "reactions"}`."""
    message, reactions = services.reaction_toggle(
        actor=request.user, conversation_id=conversation_id, seq=seq, emoji=request.POST.get("emoji")
    )
    if wants_json(request):
        return JsonResponse({"conversation": message.conversation_id, "seq": message.seq, "reactions": reactions})
    return redirect(f"{_conversation_url(message.conversation_id)}#m{message.seq}")


@require_POST
@login_required
@domain_errors
def topic_create(request: HttpRequest, group_id: int) -> HttpResponse:
    """POST `name`: a new named conversation in the group, then its page."""
    group, _membership = access_group(request.user, group_id)
    form = TopicForm(request.POST)
    if not form.is_valid():
        return render(request, "messaging/topic_new.html", {"group": group, "form": form}, status=400)
    try:
        conversation = services.topic_create(actor=request.user, group_id=group.pk, name=form.cleaned_data["name"])
    except Invalid as error:  # e.g. the name is taken
        status = form_error(form, "name", error)
        return render(request, "messaging/topic_new.html", {"group": group, "form": form}, status=status)
    return redirect(_conversation_url(conversation.pk))


@require_http_methods(["GET", "POST"])
@login_required
@domain_errors
def topic_rename(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """GET: the rename form (the group's owner and admins). POST `name`: rename, back to the group page."""
    conversation, membership = access_conversation(request.user, conversation_id)
    if membership is None:
        raise NotFound()
    check_manager(membership)
    form = TopicForm(request.POST or None, initial={"name": conversation.name})
    form.fields["name"].label = "New name"
    context = {"conversation": conversation, "group": conversation.group, "form": form}
    if request.method != "POST":
        return render(request, "messaging/topic_rename.html", context)
    if form.is_valid():
        try:
            services.topic_rename(actor=request.user, conversation_id=conversation.pk, name=form.cleaned_data["name"])
        except Invalid as error:
            form_error(form, "name", error)
        else:
            flash.success(request, f"Renamed to # {form.cleaned_data['name']}.")
            return redirect(reverse("groups:detail", args=[conversation.group_id]))
    return render(request, "messaging/topic_rename.html", context, status=400)


def _direct_redirect(request: HttpRequest, form: DirectForm, username: str) -> HttpResponse:
    """Open (or find) the direct conversation and go there; errors re-render the form."""
    try:
        conversation, _created = services.direct_open(actor=request.user, username=username)
    except (NotFound, Invalid) as error:
        status = form_error(form, "username", error)
        return render(request, "messaging/direct.html", {"form": form}, status=status)
    return redirect(_conversation_url(conversation.pk))


@require_http_methods(["GET", "POST"])
@login_required
def direct_start(request: HttpRequest) -> HttpResponse:
    """GET: the "write to someone" form. POST `username`: go to that direct conversation."""
    if request.method == "GET":
        return render(request, "messaging/direct.html", {"form": DirectForm()})
    form = DirectForm(request.POST)
    if not form.is_valid():
        return render(request, "messaging/direct.html", {"form": form}, status=400)
    return _direct_redirect(request, form, form.cleaned_data["username"])


@require_POST
@login_required
def direct_open(request: HttpRequest, username: str) -> HttpResponse:
    """POST /dm/<username>/: the direct conversation with that user, the same one from either side."""
    form = DirectForm({"username": username})
    form.is_valid()  # binds the form so the error can be shown next to the field
    return _direct_redirect(request, form, username)
