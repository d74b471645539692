"""Reading search results: the messages matching a query in the conversations a user can see now."""

from datetime import datetime, time, timedelta

from django.db import connection
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, FloatField, Q, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from messaging.access import visible_to
from messaging.models import Conversation, Message
from search import backends
from search.query import SearchQuery

NEWEST = "newest"
RELEVANCE = "relevance"
SORTS = (NEWEST, RELEVANCE)

# has:link: the same links the conversation page makes clickable (messaging.markup).
_LINK = Q(body__icontains="http://") | Q(body__icontains="https://") | Q(body__icontains="www.")


def _start_of(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _pg_plan(query: SearchQuery, visible: list[int], sort: str) -> str | None:
    """PostgreSQL, newest first over several conversations: "index" (start from the GIN index) when
    few messages match the words, else "walk" (the newest messages, words checked on visible ones).
    None: leave it to the planner (SQLite, one conversation, relevance, no words)."""
    if connection.vendor != "postgresql" or len(visible) < 2 or sort != NEWEST:
        return None
    if not query.has_text:
        return "walk" if query.author else None
    return "index" if backends.pg_few_matches(query) else "walk"


def message_search(
    user, query: SearchQuery, *, conversation_id: int | None = None, sort: str = NEWEST, limit: int, offset: int = 0
) -> tuple[list[Message], bool]:
    """A page of matching messages and whether more follow.

    Visibility is decided here, at query time, by the one rule (`messaging.access.visible_to`):
    a removed member finds nothing of that group. Deleted messages never match; the index
    holds the current text of an edited one. Each message has its author and conversation
    (with group and direct participants) loaded.
    """
    if query.is_empty:
        return [], False
    # The ids first, then the search among them, by the plan _pg_plan picks on PostgreSQL
    # (BENCHMARKS.md, "search"); the conversations of the ~20 results are read at the end.
    visible = list(Conversation.objects.filter(visible_to(user)).values_list("pk", flat=True))
    if conversation_id is not None:
        visible = [conversation_id] if conversation_id in visible else []
    if not visible:
        return [], False
    messages = Message.objects.filter(deleted=False)
    order = [F("created_at").desc(), F("id").desc()]
    plan = _pg_plan(query, visible, sort)
    text_done = False
    if plan == "index" or (plan == "walk" and query.author):
        # A selective start (the GIN index, or the author's messages newest first): the
        # visible conversations only filter the rows it finds.
        messages = messages.filter(RawSQL(backends.PG_CONVERSATION_FILTER, [visible], output_field=BooleanField()))  # noqa: S611
    elif plan == "walk":
        sql, params = backends.pg_walk_condition(query, visible)
        messages = messages.filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611
        text_done = True
    else:
        messages = messages.filter(conversation_id__in=visible)
    if plan == "index":  # sort the few matches rather than walk the newest messages of everyone
        order[0] = ExpressionWrapper(F("created_at") + Value(timedelta(0)), output_field=DateTimeField()).desc()
    if query.author:
        # The id first: with it the planner walks that author's messages, newest first.
        author_id = User.objects.filter(username__iexact=query.author).values_list("pk", flat=True).first()
        if author_id is None:
            return [], False
        messages = messages.filter(author_id=author_id)
    if query.before:
        messages = messages.filter(created_at__lt=_start_of(query.before))
    if query.after:
        messages = messages.filter(created_at__gte=_start_of(query.after + timedelta(days=1)))
    if query.has_link:
        messages = messages.filter(_LINK)
    for sql, params in [] if text_done else backends.text_conditions(connection.vendor, query):
        messages = messages.filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611 (search.backends)
    rank = backends.rank_expression(connection.vendor, query) if sort == RELEVANCE else None
    if rank is not None:
        sql, params, higher_is_better = rank
        messages = messages.annotate(rank=RawSQL(sql, params, output_field=FloatField()))  # noqa: S611
        order.insert(0, F("rank").desc() if higher_is_better else F("rank").asc())
    page = list(messages.select_related("author").order_by(*order)[offset : offset + limit + 1])
    page, has_more = page[:limit], len(page) > limit
    conversations = Conversation.objects.select_related("group", "user_low", "user_high").in_bulk(
        {m.conversation_id for m in page}
    )
    for message in page:
        message.conversation = conversations[message.conversation_id]
    return page, has_more
