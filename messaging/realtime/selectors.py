"""Reads only the socket needs: its conversation ids, cursors, sync pages, co-members, account checks.

Every conversation rule comes from messaging.access (`visible_to`, or `VISIBLE_SQL` in
hand-written SQL), as for views. The reads every connect makes (ids, cursors, co-members)
are written out as SQL: the ORM compiled them anew per connect. The cursors take the unread
rule from `messaging.unread`; tests/messaging/test_realtime_selectors.py holds them to the
ORM forms. Measured in-process (CPU per call, PostgreSQL, DEBUG off): see the
commit that added them.
"""

import operator
from functools import reduce
from typing import NamedTuple

from django.db.models import Q

from accounts.models import User
from accounts.serializers import user_fields_json
from groups.models import Membership
from messaging import rawsql, unread
from messaging.access import VISIBLE_SQL, visible_params, visible_sql, visible_to
from messaging.attachments import load_for_messages
from messaging.models import Conversation, Message, Mute, Star
from messaging.serializers import conversation_json

_CONVERSATION = Conversation._meta.db_table
_MEMBERSHIP = Membership._meta.db_table
_USER = User._meta.db_table


_INTS = ()  # ids, counts and names: no column needs converting, on any backend

_IDS_SQL = f"SELECT c.id FROM {_CONVERSATION} c WHERE {VISIBLE_SQL}"  # noqa: S608

# Each conversation's last seq, its `unread, mentions` by the rule of `messaging.unread`, and
# whether the user muted and starred it (indexed lookups on the unique (user, conversation) pairs):
# everything `hello` says of a conversation, in one query.
_CURSORS_SQL = f"""
    SELECT c.id, c.last_seq, {unread.COUNTS_SQL},
        EXISTS (SELECT 1 FROM {Mute._meta.db_table} mu WHERE mu.user_id = %s AND mu.conversation_id = c.id),
        EXISTS (SELECT 1 FROM {Star._meta.db_table} st WHERE st.user_id = %s AND st.conversation_id = c.id)
    FROM {_CONVERSATION} c
    {unread.READ_STATE_JOIN}
    WHERE {VISIBLE_SQL}
    ORDER BY c.id
"""  # noqa: S608 (table names come from the models, values are parameters)


_CO_MEMBERS_SQL = f"""
    SELECT u.id, u.username, u.display_name, u.avatar FROM {_USER} u
    WHERE u.is_active AND u.id <> %s AND (
        u.id IN (SELECT om.user_id FROM {_MEMBERSHIP} om
            WHERE om.group_id IN (SELECT mm.group_id FROM {_MEMBERSHIP} mm WHERE mm.user_id = %s))
        OR u.id IN (SELECT c.user_high_id FROM {_CONVERSATION} c WHERE c.kind = 'direct' AND c.user_low_id = %s)
        OR u.id IN (SELECT c.user_low_id FROM {_CONVERSATION} c WHERE c.kind = 'direct' AND c.user_high_id = %s)
    )
    ORDER BY u.id
    LIMIT %s
"""  # noqa: S608 (table names come from the models, values are parameters)


# Presence is announced to at most this many co-members when a socket opens.
PRESENCE_SNAPSHOT_MAX = 1000


def conversation_ids_for_user(user) -> set[int]:
    """The ids of every conversation the user may see. One query."""
    return {row[0] for row in rawsql.fetch(_IDS_SQL, visible_params(user), _INTS)}


class HelloState(NamedTuple):
    """What `hello` says of the user's conversations: cursors by id, and which are muted and starred."""

    cursors: list[dict]
    muted: set[int]
    starred: set[int]


def _cursor_rows(user, conversation_ids=None) -> list:
    """Rows of `_CURSORS_SQL` (all the user may see, or only these of them)."""
    sql, extra = _CURSORS_SQL, []
    if conversation_ids is not None:
        extra = sorted(conversation_ids)
        if not extra:
            return []
        sql = sql.replace("ORDER BY c.id", f"AND c.id IN ({', '.join(['%s'] * len(extra))}) ORDER BY c.id")
    params = [user.pk, user.pk, user.pk, user.pk, user.pk, *visible_params(user), *extra]
    return rawsql.fetch(sql, params, _INTS)


def hello_state(user, conversation_ids=None) -> HelloState:
    """Cursors (`conversation_cursors`' dicts) and the muted and starred ids of the conversations the
    user may see (or only of these of them). One query."""
    state = HelloState([], set(), set())
    for cid, last_seq, unread_count, mentions, muted, starred in _cursor_rows(user, conversation_ids):
        state.cursors.append({"id": cid, "last_seq": last_seq, "unread": unread_count, "mentions": mentions})
        if muted:
            state.muted.add(cid)
        if starred:
            state.starred.add(cid)
    return state


def conversation_cursors(user) -> list[dict]:
    """`[{"id", "last_seq", "unread", "mentions"}]` by id, for `hello`. One query."""
    return hello_state(user).cursors


def sync_messages(user, cursors: dict[int, int], limit: int) -> tuple[list[Message], bool]:
    """Messages after each cursor, by conversation then seq, at most `limit` in all, with their
    attachments. Two queries.

    Cursors for conversations the user cannot see match nothing. The bool says
    whether this page holds everything after the cursors.
    """
    if not cursors:
        return [], True
    after_cursors = reduce(operator.or_, (Q(conversation_id=cid, seq__gt=seq) for cid, seq in cursors.items()))
    visible = Conversation.objects.filter(visible_to(user), pk__in=list(cursors)).values("pk")
    rows = list(
        Message.objects.filter(after_cursors, conversation_id__in=visible)
        .select_related("author")
        .order_by("conversation_id", "seq")[: limit + 1]
    )
    return load_for_messages(rows[:limit]), len(rows) <= limit


def co_members(user) -> list[dict]:
    """The users (`accounts.serializers.user_json`) active and sharing a conversation with `user`:
    a member of one of their groups, or the other side of one of their directs. One query."""
    return [
        user_fields_json(*row) for row in rawsql.fetch(_CO_MEMBERS_SQL, [user.pk] * 4 + [PRESENCE_SNAPSHOT_MAX], _INTS)
    ]


# One row per user: whether the account may still use its sockets, its password hash (for the
# sessions' auth hash), and a fingerprint of the conversations it may see (how many, the sum of
# their ids, the largest). The socket compares the fingerprint with its own set and reads the
# ids again only when they differ: one cheap row per user, however many conversations.
_RECHECK_SQL = f"""
    SELECT u.id, u.is_active, u.password, COUNT(c.id), COALESCE(SUM(c.id), 0), COALESCE(MAX(c.id), 0)
    FROM {_USER} u
    LEFT JOIN {_CONVERSATION} c ON {visible_sql("u.id")}
    WHERE u.id IN ({{ids}})
    GROUP BY u.id, u.is_active, u.password
"""  # noqa: S608 (table names come from the models, values are parameters)


def conversations_fingerprint(conversation_ids) -> tuple[int, int, int]:
    """What `access_rows` says of a set of conversation ids, for comparing without the ids."""
    return len(conversation_ids), sum(conversation_ids), max(conversation_ids, default=0)


def access_rows(user_ids, batch: int = 500) -> dict[int, tuple[bool, str, tuple[int, int, int]]]:
    """`{user id: (is_active, password hash, conversations fingerprint)}`. One query per `batch` users.

    The safety net under the access events (the channel layer does not guarantee
    delivery, and a manual database fix publishes nothing): the heartbeat asks
    this for every user with a socket in the process, every REVOCATION_RECHECK_SECONDS.
    A user missing from the answer no longer exists.
    """
    user_ids = sorted(user_ids)
    found = {}
    for start in range(0, len(user_ids), batch):
        chunk = user_ids[start : start + batch]
        sql = _RECHECK_SQL.format(ids=", ".join(["%s"] * len(chunk)))
        for uid, active, password, count, total, largest in rawsql.fetch(sql, chunk, _INTS):
            found[uid] = (bool(active), password, (int(count), int(total), int(largest)))
    return found


def cursors_for(user, conversation_ids) -> list[dict]:
    """`conversation_cursors` for these conversations only (those the user may see). One query."""
    return hello_state(user, conversation_ids).cursors


def conversations_json(user, conversation_ids) -> list[dict]:
    """The `conversation.added` payloads of these conversations, those the user may see. One query."""
    conversations = (
        Conversation.objects.filter(visible_to(user), pk__in=list(conversation_ids))
        .select_related("group", "user_low", "user_high")
        .order_by("pk")
    )
    return [conversation_json(conversation, user) for conversation in conversations]
