"""Reading search results: the messages matching a query in the conversations a user can see now."""

from datetime import datetime, time, timedelta

from django.db import connection
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, FloatField, Q, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from groups.models import Group
from messaging import rawsql
from messaging.access import VISIBLE_SQL, visible_params
from messaging.attachments import load_for_messages
from messaging.models import Attachment, Conversation, Message, Reaction
from messaging.selectors import attach_reactions, attach_replies
from search import backends
from search.query import SearchQuery

NEWEST = "newest"
RELEVANCE = "relevance"
SORTS = (NEWEST, RELEVANCE)

# has:link: the same links the conversation page makes clickable (messaging.markup).
_LINK = Q(body__icontains="http://") | Q(body__icontains="https://") | Q(body__icontains="www.")


# Hand-written, as the conversation page's reads (messaging.selectors): the ORM compiled these anew on
# every search, 0.9 ms of CPU for the visible ids and 1 ms for the results' conversations
# (bench/search_cpu.py; BENCHMARKS.md, "search"). The visibility rule is messaging.access's VISIBLE_SQL,
# which tests/messaging/test_access.py holds to `visible_to`.
_VISIBLE_IDS_SQL = f"SELECT c.id FROM {Conversation._meta.db_table} c WHERE {VISIBLE_SQL}"  # noqa: S608

_USER_FIELDS = ["id", "username", "display_name", "avatar"]  # what results show of a person
_MESSAGE_FIELDS = [f.attname for f in Message._meta.concrete_fields]
# What a result shows of its conversation (its title, the group); the rest of the row stays deferred.
_CONVERSATION_FIELDS = ["id", "kind", "group_id", "name", "user_low_id", "user_high_id"]
_USER = User._meta.db_table


def _user_columns(alias: str) -> str:
    return ", ".join(f"{alias}.{name}" for name in _USER_FIELDS)


# The page of results by id: each message with its author, its conversation (with the group's name or
# the two people of a direct one), and whether it has attachments or reactions, so that the JSON endpoint
# reads those only when some result has any (load_for_json). The group's name as a subquery rather than a
# sixth joined table: PostgreSQL plans the join 0.15 ms faster (0.55 -> 0.4 ms).
_RESULTS_SQL = f"""
    SELECT {", ".join(f"m.{f.column}" for f in Message._meta.concrete_fields)}, {_user_columns("a")},
        {", ".join(f"c.{Conversation._meta.get_field(name).column}" for name in _CONVERSATION_FIELDS)},
        (SELECT g.name FROM {Group._meta.db_table} g WHERE g.id = c.group_id),
        {_user_columns("ul")}, {_user_columns("uh")},
        EXISTS (SELECT 1 FROM {Attachment._meta.db_table} f WHERE f.message_id = m.id),
        EXISTS (SELECT 1 FROM {Reaction._meta.db_table} r WHERE r.message_id = m.id)
    FROM {Message._meta.db_table} m
    LEFT JOIN {_USER} a ON a.id = m.author_id
    JOIN {Conversation._meta.db_table} c ON c.id = m.conversation_id
    LEFT JOIN {_USER} ul ON ul.id = c.user_low_id
    LEFT JOIN {_USER} uh ON uh.id = c.user_high_id
    WHERE m.id IN ({{ids}}){{visible}}
"""  # noqa: S608 (table and column names come from the models, values are parameters)
# PostgreSQL: the visible conversations again, redundant but for the planner, which otherwise hashed
# every conversation to join the 20 results (execution 0.65 -> 0.3 ms with 2,000 conversations).
_RESULTS_VISIBLE_PG = f" AND c.id = ANY({backends.PG_IDS})"
_RESULTS_COLUMNS = (
    *Message._meta.concrete_fields,
    *(None,) * len(_USER_FIELDS),
    *(Conversation._meta.get_field(name) for name in _CONVERSATION_FIELDS),
    *(None,) * (1 + 2 * len(_USER_FIELDS) + 2),
)


def _visible_ids(user) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(_VISIBLE_IDS_SQL, visible_params(user))
        return [row[0] for row in cursor.fetchall()]


class _Rows:
    """Instances of one model from a row's columns, one per id."""

    def __init__(self, model, fields: list[str]) -> None:
        self.model, self.fields, self.width, self.found = model, fields, len(fields), {}
        self.alias = connection.alias

    def get_from(self, row, start: int):
        pk = row[start]
        if pk is None:
            return None
        instance = self.found.get(pk)
        if instance is None:
            instance = self.found[pk] = self.model.from_db(self.alias, self.fields, row[start : start + self.width])
        return instance


def _results(ids: list[int], visible: list[int]) -> list[Message]:
    """The messages of `ids` (in `visible` conversations), in that order, with what a result shows loaded
    (one query)."""
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        sql, params = _RESULTS_SQL.format(ids=placeholders, visible=_RESULTS_VISIBLE_PG), [*ids, visible]
    else:
        sql, params = _RESULTS_SQL.format(ids=placeholders, visible=""), ids
    rows = rawsql.fetch(sql, params, _RESULTS_COLUMNS)
    users = _Rows(User, _USER_FIELDS)
    conversations = _Rows(Conversation, _CONVERSATION_FIELDS)
    groups = _Rows(Group, ["id", "name"])
    at_conversation = len(_MESSAGE_FIELDS) + len(_USER_FIELDS)
    at_group = at_conversation + len(_CONVERSATION_FIELDS)
    by_id = {}
    for row in rows:
        message = Message.from_db(connection.alias, _MESSAGE_FIELDS, row[: len(_MESSAGE_FIELDS)])
        message._state.fields_cache["author"] = users.get_from(row, len(_MESSAGE_FIELDS))
        conversation = conversations.get_from(row, at_conversation)
        cache = conversation._state.fields_cache
        if conversation.group_id is not None:
            cache["group"] = groups.get_from((conversation.group_id, row[at_group]), 0)
        else:
            cache["group"] = None
            cache["user_low"] = users.get_from(row, at_group + 1)
            cache["user_high"] = users.get_from(row, at_group + 1 + len(_USER_FIELDS))
        message._state.fields_cache["conversation"] = conversation
        message.has_attachments, message.has_reactions = (bool(flag) for flag in row[-2:])
        by_id[message.pk] = message
    return [by_id[pk] for pk in ids if pk in by_id]


def load_for_json(messages: list[Message], viewer_id: int) -> list[Message]:
    """What `message_json` carries beyond a result's row: its attachments and the viewer's view of its
    reactions, read only for the results that have some (none, usually: no query), and what replies answer."""
    for message in messages:
        if not message.has_attachments:
            message.attachment_list = []
        if not message.has_reactions:
            message.reaction_list = []  # serializers.reactions_json of no reactions
    # Neither is called with no messages: an empty `IN ()` sends no query, but the ORM still compiles it.
    with_attachments = [m for m in messages if m.has_attachments]
    if with_attachments:
        load_for_messages(with_attachments)
    with_reactions = [m for m in messages if m.has_reactions]
    if with_reactions:
        attach_reactions(with_reactions, viewer_id)
    attach_replies(messages)  # one query when any is a reply
    return messages


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

    Visibility is decided here, at query time, by the one rule (`messaging.access.VISIBLE_SQL`,
    `visible_to` written out): a removed member finds nothing of that group. Deleted messages never match; the index
    holds the current text of an edited one. Each message has its author and conversation
    (with group and direct participants) loaded, and `has_attachments` and `has_reactions` set
    (for load_for_json).
    """
    if query.is_empty:
        return [], False
    # The ids first, then the search among them, by the plan _pg_plan picks on PostgreSQL
    # (BENCHMARKS.md, "search"), for the ids of a page; the ~20 results are read by id at the end.
    visible = _visible_ids(user)
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
    ids = list(messages.order_by(*order).values_list("pk", flat=True)[offset : offset + limit + 1])
    return _results(ids[:limit], visible), len(ids) > limit
