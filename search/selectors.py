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


def _gin_first(query: SearchQuery, visible: list[int], sort: str) -> bool:
    """PostgreSQL, newest first over several conversations: start from the index when few messages match."""
    if connection.vendor != "postgresql" or not query.has_text or len(visible) < 2 or sort != NEWEST:
        return False
    return backends.pg_few_matches(query)


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
    # The ids first, then the search among them: with the list in hand PostgreSQL's planner
    # knows how few messages the user can see, and walks them newest first for a common word
    # or takes the GIN index for a rare one (BENCHMARKS.md, "search").
    visible = list(Conversation.objects.filter(visible_to(user)).values_list("pk", flat=True))
    if conversation_id is not None:
        visible = [conversation_id] if conversation_id in visible else []
    if not visible:
        return [], False
    messages = Message.objects.filter(deleted=False)
    order = [F("created_at").desc(), F("id").desc()]
    gin_first = _gin_first(query, visible, sort)
    if gin_first or (query.author and len(visible) > 1 and connection.vendor == "postgresql"):
        # A selective start (the GIN index, or the author's messages newest first): the
        # visible conversations only filter the rows it finds.
        messages = messages.filter(RawSQL(backends.PG_CONVERSATION_FILTER, [visible], output_field=BooleanField()))  # noqa: S611
    else:
        messages = messages.filter(conversation_id__in=visible)
    if gin_first:  # sort the few matches rather than walk the newest messages of everyone
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
    for sql, params in backends.text_conditions(connection.vendor, query):
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
