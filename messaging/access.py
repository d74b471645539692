"""Every permission rule about conversations and messages, in one place.

`access_conversation` is the single gate: views and consumers call it on every
request and frame. It gives the same NotFound for "no such conversation" and
"not yours", so ids of other people's conversations leak nothing.

Who may see a conversation is written twice here, side by side, because it is
used in two ways: `visible_to` filters sets of conversations inside ORM queries
(cursors, sync), and `VISIBLE_SQL` is the same condition for the hand-written
queries of the hot paths: `access_conversation`, which decides for one
conversation on every socket frame and request, the sidebar and the socket's
connect-time reads.
The ORM compiled that single-row check anew for every frame, 1.4 ms of CPU
against 0.1 ms for the same SQL written out (BENCHMARKS.md, "Changes made for
performance"). tests/messaging/test_access.py checks that both agree for every
kind of user and conversation.
"""

from django.db import connection
from django.db.models import Q

from chatsite.errors import Forbidden, NotFound
from chatsite.numbers import row_id
from groups.access import can_moderate
from groups.models import Group, Membership
from messaging import rawsql
from messaging.models import Conversation, Message


def visible_to(user) -> Q:
    """The conversations a user may see: their groups' conversations and their directs."""
    group_ids = Membership.objects.filter(user=user).values("group_id")
    return (
        Q(kind=Conversation.Kind.GROUP, group_id__in=group_ids)
        | Q(kind=Conversation.Kind.DIRECT, user_low=user)
        | Q(kind=Conversation.Kind.DIRECT, user_high=user)
    )


def visible_sql(user: str) -> str:
    """`visible_to` as an SQL condition on a conversation aliased `c`, for the hand-written queries
    of the hot paths; `user` is the SQL for the user's id (`%s`, or a column such as `u.id`).
    tests/messaging/test_access.py holds it to `visible_to`."""
    membership = Membership._meta.db_table
    return f"""(
    (c.kind = 'group' AND c.group_id IN (SELECT vm.group_id FROM {membership} vm WHERE vm.user_id = {user}))
    OR (c.kind = 'direct' AND (c.user_low_id = {user} OR c.user_high_id = {user}))
)"""  # noqa: S608 (the table name comes from the model, values are parameters)


# The condition for one user given as a parameter (messaging.selectors, messaging.realtime.selectors).
# Its parameters: the user's id, three times (`visible_params`).
VISIBLE_SQL = visible_sql("%s")


def visible_params(user) -> list:
    """The parameters of VISIBLE_SQL."""
    return [user.pk] * 3


def _columns(model, alias: str) -> tuple[list[str], str]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return fields, ", ".join(f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields)


_CONVERSATION_FIELDS, _conversation_columns = _columns(Conversation, "c")
_GROUP_FIELDS, _group_columns = _columns(Group, "g")
_ACCESS_FIELDS = (*Conversation._meta.concrete_fields, *Group._meta.concrete_fields, None)
# One conversation if the user may see it, with its group and the user's role in that group.
_ACCESS_SQL = f"""
    SELECT {_conversation_columns}, {_group_columns}, m.role
    FROM {Conversation._meta.db_table} c
    LEFT JOIN {Group._meta.db_table} g ON g.id = c.group_id
    LEFT JOIN {Membership._meta.db_table} m ON m.group_id = c.group_id AND m.user_id = %s
    WHERE c.id = %s AND {VISIBLE_SQL}
"""  # noqa: S608 (table and column names come from the models, values are parameters)


def access_conversation(user, conversation_id) -> tuple[Conversation, Membership | None]:
    """The conversation (with its group) and, for a group's conversation, the user's membership. One query."""
    params = access_params(user, conversation_id)
    if params is None:
        raise NotFound()
    row = rawsql.fetch_one(ACCESS_SQL, params, ACCESS_FIELDS)
    if row is None:
        raise NotFound()
    return access_from_row(user, row)


# The gate as parts, for a statement that checks access and writes at once (messaging.services
# `_store_alone`): its SQL, the fields of its row, its parameters, and the objects from its row.
ACCESS_SQL = _ACCESS_SQL
ACCESS_FIELDS = _ACCESS_FIELDS
ACCESS_KIND_COLUMN = _CONVERSATION_FIELDS.index("kind")


def access_params(user, conversation_id) -> list | None:
    """The parameters of ACCESS_SQL, or None when nobody can see that conversation (anonymous, not an id)."""
    if not getattr(user, "is_authenticated", False):
        return None
    conversation_id = row_id(conversation_id)
    if conversation_id is None:
        return None
    return [user.pk, conversation_id, *visible_params(user)]


def access_from_row(user, row) -> tuple[Conversation, Membership | None]:
    """`access_conversation`'s answer from a row of ACCESS_SQL (converted with ACCESS_FIELDS)."""
    split = len(_CONVERSATION_FIELDS)
    conversation = Conversation.from_db(connection.alias, _CONVERSATION_FIELDS, row[:split])
    membership = None
    if conversation.group_id is not None:
        group = Group.from_db(connection.alias, _GROUP_FIELDS, row[split : len(_ACCESS_FIELDS) - 1])
        conversation.group = group
        membership = Membership(group=group, user=user, role=row[len(_ACCESS_FIELDS) - 1])
    return conversation, membership


def can_edit(user, message: Message) -> bool:
    """Only the author edits, and a deleted message stays deleted."""
    return message.author_id == user.pk and not message.deleted


def can_delete(user, message: Message, membership: Membership | None) -> bool:
    """The author deletes their own; a group's owner and admins delete any (moderation)."""
    return message.author_id == user.pk or can_moderate(membership)


def check_can_edit(user, message: Message) -> None:
    """`can_edit`, or Forbidden saying why."""
    if message.author_id != user.pk:
        raise Forbidden("You can only edit your own messages.")
    if message.deleted:
        raise Forbidden("That message was deleted.")


def check_can_delete(user, message: Message, membership: Membership | None) -> None:
    """`can_delete`, or Forbidden."""
    if not can_delete(user, message, membership):
        raise Forbidden("You can only delete your own messages.")
