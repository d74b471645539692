"""The unread rule, in one home.

A message is unread for a user when its seq is after their read marker, it is not deleted,
and it is not theirs (one whose author's account was deleted is someone else's). Their unread
mentions are their `Mention` rows after the marker (deleting a message deletes its mentions).
A marker that was never set reads as 0.

The rule is written once as SQL fragments: the sidebar (`selectors.conversations_for_user`),
the socket's cursors (`realtime.selectors`), the counts sent after a read marker moves and
the first unread message of the conversation page all put them in their statements. Its
ORM form, `unread_messages`, sits beside them for the queries that need message rows
(the missed-message email); tests/messaging/test_unread.py holds the two equal, and both
to a reference written out in the tests.
"""

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from messaging import rawsql
from messaging.models import Conversation, Mention, Message, ReadState

_MESSAGE = Message._meta.db_table
_MENTION = Mention._meta.db_table
_READ_STATE = ReadState._meta.db_table


def unread_where(*, conversation: str, read_seq: str, alias: str = "u") -> str:
    """The condition on messages `alias` that are unread: `conversation` and `read_seq` are SQL
    expressions of the outer query (e.g. "c.id", "COALESCE(rs.last_read_seq, 0)"). One `%s`: the user id."""
    return (
        f"{alias}.conversation_id = {conversation} AND {alias}.seq > {read_seq} AND NOT {alias}.deleted"
        f" AND ({alias}.author_id IS NULL OR {alias}.author_id <> %s)"
    )


def unread_count_sql(*, conversation: str, read_seq: str) -> str:
    """A subquery: how many messages are unread. One `%s`: the user id."""
    where = unread_where(conversation=conversation, read_seq=read_seq)
    return f"(SELECT COUNT(*) FROM {_MESSAGE} u WHERE {where})"  # noqa: S608 (names from the models)


def mention_count_sql(*, conversation: str, read_seq: str) -> str:
    """A subquery: how many of the user's mentions are unread. One `%s`: the user id."""
    return (
        f"(SELECT COUNT(*) FROM {_MENTION} mn"  # noqa: S608 (names from the models)
        f" WHERE mn.user_id = %s AND mn.conversation_id = {conversation} AND mn.seq > {read_seq})"
    )


# The marker of the user (`%s`) in conversation `c`, joined as `rs`; null before the first read.
READ_STATE_JOIN = f"LEFT JOIN {_READ_STATE} rs ON rs.conversation_id = c.id AND rs.user_id = %s"
READ_SEQ = "COALESCE(rs.last_read_seq, 0)"
# `unread, mentions` of conversation `c` for the user: two `%s`, the user id twice.
COUNTS_SQL = (
    f"{unread_count_sql(conversation='c.id', read_seq=READ_SEQ)},"
    f" {mention_count_sql(conversation='c.id', read_seq=READ_SEQ)}"
)

_INTS = ()  # ids and counts: nothing to convert on either database

_COUNTS_FOR_SQL = f"""
    SELECT c.id, {COUNTS_SQL}
    FROM {Conversation._meta.db_table} c {READ_STATE_JOIN}
    WHERE c.id IN ({{ids}})
"""  # noqa: S608 (names from the models, values are parameters)

_FIRST_UNREAD_SQL = f"""
    SELECT MIN(u.seq) FROM {_MESSAGE} u
    WHERE {unread_where(conversation="%s", read_seq="%s")}
"""  # noqa: S608 (names from the models, values are parameters)


def unread_messages(user) -> QuerySet[Message]:
    """The rule as a queryset: the messages unread for the user, in every conversation (the caller
    narrows it, and checks which conversations the user may see)."""
    read = ReadState.objects.filter(user=user, conversation=OuterRef("conversation")).values("last_read_seq")[:1]
    return (
        Message.objects.filter(deleted=False)
        .exclude(author=user)
        .annotate(read_seq=Coalesce(Subquery(read), 0))
        .filter(seq__gt=F("read_seq"))
    )


def counts(user, conversation_ids) -> dict[int, tuple[int, int]]:
    """`{conversation id: (unread, mentions)}` for the user, as the rule counts them now. One query.
    The caller has checked access (the conversations are the user's)."""
    conversation_ids = sorted(set(conversation_ids))
    if not conversation_ids:
        return {}
    sql = _COUNTS_FOR_SQL.format(ids=", ".join(["%s"] * len(conversation_ids)))
    rows = rawsql.fetch(sql, [user.pk, user.pk, user.pk, *conversation_ids], _INTS)
    return {cid: (int(unread), int(mentions)) for cid, unread, mentions in rows}


def first_unread_seq(user, conversation_id: int, *, read_seq: int) -> int | None:
    """The seq of the first message unread for the user after `read_seq` (their marker), or None."""
    row = rawsql.fetch_one(_FIRST_UNREAD_SQL, [conversation_id, read_seq, user.pk], (None,))
    return None if row is None or row[0] is None else int(row[0])
