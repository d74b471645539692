"""Every read about conversations and messages that needs a rule or a careful query.

The three reads of the conversation page (the sidebar, the page of messages, the members
with their read markers) are written out as SQL: the ORM compiled them anew on every page
view. Measured with bench/page_cpu.py (CPU per call, PostgreSQL): the sidebar 4.2 ms, of it
2.6 ms compiling, against 0.6 ms written out; the page of 50 messages 1.5 ms against 0.65;
the members and then their read markers 1.6 ms in two queries against 0.2 ms in one.
The sidebar takes the visibility rule from `messaging.access.VISIBLE_SQL` and the unread rule
from `messaging.unread`; tests/messaging/test_selectors.py and test_unread.py hold them to the ORM.
"""

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from groups.models import Group, Membership
from messaging import rawsql, rendering, unread
from messaging.access import VISIBLE_SQL, visible_params, visible_to
from messaging.attachments import load_for_messages
from messaging.models import Attachment, Conversation, Mention, Message, Mute, Reaction, ReadState, Star
from messaging.serializers import reactions_json

_CONVERSATION = Conversation._meta.db_table
_MESSAGE = Message._meta.db_table
_MUTE = Mute._meta.db_table
_STAR = Star._meta.db_table
_READ_STATE = ReadState._meta.db_table
_USER = User._meta.db_table
_GROUP = Group._meta.db_table
_MEMBERSHIP = Membership._meta.db_table

# Only what pages show of a user: the rest of the row (password hash, dates) stays deferred.
_USER_FIELDS = ["id", "username", "display_name", "avatar"]


_USER_WIDTH = len(_USER_FIELDS)


def _field(model, name: str):
    return model._meta.get_field(name)


class _Users(dict):
    """One user instance per id among a query's rows (`_USER_FIELDS` only; None for a missing one)."""

    def __init__(self, alias: str) -> None:
        super().__init__()
        self.build = rawsql.instances(User, alias, _USER_FIELDS)

    def get_from(self, row, start: int) -> User | None:
        user_id = row[start]
        if user_id is None:
            return None
        user = self.get(user_id)
        if user is None:
            user = self[user_id] = self.build(row[start : start + _USER_WIDTH])
        return user


_CONVERSATION_FIELDS = [f.attname for f in Conversation._meta.concrete_fields]
_SIDEBAR_SQL = f"""
    SELECT {", ".join(f"c.{f.column}" for f in Conversation._meta.concrete_fields)},
        g.name, ul.id, ul.username, ul.display_name, ul.avatar, uh.id, uh.username, uh.display_name, uh.avatar,
        {unread.READ_SEQ},
        {unread.unread_count_sql(conversation="c.id", read_seq=unread.READ_SEQ)},
        lm.body, lm.deleted,
        {unread.mention_count_sql(conversation="c.id", read_seq=unread.READ_SEQ)},
        mu.id, st.id
    FROM {_CONVERSATION} c
    LEFT JOIN {_GROUP} g ON g.id = c.group_id
    LEFT JOIN {_USER} ul ON ul.id = c.user_low_id
    LEFT JOIN {_USER} uh ON uh.id = c.user_high_id
    {unread.READ_STATE_JOIN}
    LEFT JOIN {_MESSAGE} lm ON lm.conversation_id = c.id AND lm.seq = c.last_seq
    LEFT JOIN {_MUTE} mu ON mu.conversation_id = c.id AND mu.user_id = %s
    LEFT JOIN {_STAR} st ON st.conversation_id = c.id AND st.user_id = %s
    WHERE {VISIBLE_SQL}
    ORDER BY CASE WHEN mu.id IS NULL THEN 0 ELSE 1 END, c.last_message_at DESC NULLS LAST, c.created_at DESC, c.id DESC
"""  # noqa: S608 (table and column names come from the models, values are parameters)
_SIDEBAR_COLUMNS = (
    *Conversation._meta.concrete_fields,
    *(None,) * 11,  # group name, the two users, read seq, unread: no conversion on either database
    _field(Message, "body"),
    _field(Message, "deleted"),
    None,  # unread mentions
    None,  # the mute's id (muted when not null)
    None,  # the star's id (starred when not null)
)


def conversations_for_user(user) -> list[Conversation]:
    """The user's conversations, newest activity first, with unread counts. One query.

    Each has its group (name only) and direct participants (names and avatar only) loaded, and
    `read_seq`, `unread`, `last_body` and `last_deleted` (of the message at `last_seq`), and
    `mentions` (the user's mentions after their read marker), `muted` and `starred`; muted ones last.
    """
    params = [user.pk, user.pk, user.pk, user.pk, user.pk, *visible_params(user)]
    rows = rawsql.fetch(_SIDEBAR_SQL, params, _SIDEBAR_COLUMNS, prepared=True)
    split = len(_CONVERSATION_FIELDS)
    alias = connection.alias  # looked up once: each lookup goes through the connection handler
    groups: dict[int, Group] = {}
    users = _Users(alias)  # the viewer takes part in each of their direct conversations
    new_conversation = rawsql.instances(Conversation, alias, _CONVERSATION_FIELDS)
    new_group = rawsql.instances(Group, alias, ["id", "name"])
    conversations = []
    for row in rows:
        conversation = new_conversation(row[:split])
        cache_ = conversation._state.fields_cache
        group_id = conversation.group_id
        if group_id is not None:
            group = groups.get(group_id)
            if group is None:
                group = groups[group_id] = new_group((group_id, row[split]))
            cache_["group"] = group
        else:
            cache_["group"] = None
            cache_["user_low"] = users.get_from(row, split + 1)
            cache_["user_high"] = users.get_from(row, split + 1 + _USER_WIDTH)
        (
            conversation.read_seq,
            conversation.unread,
            conversation.last_body,
            conversation.last_deleted,
            conversation.mentions,
            mute_id,
            star_id,
        ) = row[split + 1 + 2 * _USER_WIDTH :]
        conversation.muted = mute_id is not None
        conversation.starred = star_id is not None
        conversations.append(conversation)
    return conversations


def conversations_read_behind(user) -> list[tuple[int, int]]:
    """`(id, last_seq)` of the conversations the user can see whose newest message is past their
    read marker (or that they never read), by id. One query."""
    read_up = ReadState.objects.filter(user=user, conversation=OuterRef("pk"), last_read_seq__gte=OuterRef("last_seq"))
    return list(
        Conversation.objects.filter(visible_to(user), last_seq__gt=0)
        .exclude(Exists(read_up))
        .order_by("pk")
        .values_list("pk", "last_seq")
    )


def read_marker(user, conversation_id: int) -> int:
    """The last seq the user has read in the conversation (0 before any)."""
    return (
        ReadState.objects.filter(user=user, conversation_id=conversation_id)
        .values_list("last_read_seq", flat=True)
        .first()
        or 0
    )


_MESSAGE_FIELDS = [f.attname for f in Message._meta.concrete_fields]
# The last two columns say whether the message has files and reactions: the page then asks for those
# of the messages that have any, and skips the query when none has (most pages have no file).
_PAGE_SQL = f"""
    SELECT {", ".join(f"m.{f.column}" for f in Message._meta.concrete_fields)},
        a.id, a.username, a.display_name, a.avatar,
        EXISTS (SELECT 1 FROM {Attachment._meta.db_table} f WHERE f.message_id = m.id),
        EXISTS (SELECT 1 FROM {Reaction._meta.db_table} r WHERE r.message_id = m.id)
    FROM {_MESSAGE} m LEFT JOIN {_USER} a ON a.id = m.author_id
    WHERE m.conversation_id = %s AND m.seq > %s AND m.seq < %s
    ORDER BY m.seq {{order}} LIMIT %s
"""  # noqa: S608 (table and column names come from the models, values are parameters)
_PAGE_SQL_NEWEST = _PAGE_SQL.format(order="DESC")
_PAGE_SQL_OLDEST = _PAGE_SQL.format(order="ASC")
_PAGE_COLUMNS = (*Message._meta.concrete_fields, *(None,) * _USER_WIDTH, None, None)
_SEQ_MAX = 2**63 - 1  # the bigint column's largest value: "no upper bound"


def messages_page(
    conversation: Conversation, *, before: int | None = None, after: int | None = None, limit: int | None = None
) -> tuple[list[Message], bool]:
    """A page of history, oldest first, and whether more exist in the direction read.

    With `after`: the first `limit` messages with after < seq (< before); otherwise
    the last `limit` messages before `before` (or the latest). Each message has its
    author (names and avatar only), conversation and attachments (one more query, when any
    has files) loaded, and `has_reactions` for `attach_reactions`.
    """
    limit = limit or settings.HISTORY_PAGE_SIZE
    low = -1 if after is None else min(after, _SEQ_MAX)
    high = _SEQ_MAX if before is None else min(before, _SEQ_MAX)
    sql = _PAGE_SQL_OLDEST if after is not None else _PAGE_SQL_NEWEST
    rows = rawsql.fetch(sql, [conversation.pk, low, high, limit + 1], _PAGE_COLUMNS, prepared=True)
    has_more = len(rows) > limit
    rows = rows[:limit]
    if after is None:
        rows.reverse()
    split = len(_MESSAGE_FIELDS)
    alias = connection.alias
    authors = _Users(alias)  # one instance per author, not per message
    new_message = rawsql.instances(Message, alias, _MESSAGE_FIELDS)
    messages = []
    with_files = []
    for row in rows:
        message = new_message(row[:split])
        message._state.fields_cache["conversation"] = conversation
        message._state.fields_cache["author"] = authors.get_from(row, split)
        message.has_reactions = bool(row[-1])
        message.attachment_list = []
        if row[-2]:
            with_files.append(message)
        messages.append(message)
    load_for_messages(with_files)
    return messages, has_more


def messages_around(
    conversation: Conversation, seq: int, *, limit: int | None = None
) -> tuple[list[Message], bool, bool]:
    """The `limit` messages around `seq` (it and about half before it), oldest first, and whether
    older and newer ones exist: the conversation page opened at a search result."""
    limit = limit or settings.HISTORY_PAGE_SIZE
    older, has_older = messages_page(conversation, before=min(seq, _SEQ_MAX - 1) + 1, limit=limit // 2 + 1)
    newer, has_newer = messages_page(conversation, after=seq, limit=limit - len(older))
    return older + newer, has_older, has_newer


def messages_after(conversation_id: int, after: int, limit: int) -> list[Message]:
    """For `sync`: messages after a cursor, in seq order."""
    return load_for_messages(
        list(
            Message.objects.filter(conversation_id=conversation_id, seq__gt=after)
            .select_related("author")
            .order_by("seq")[:limit]
        )
    )


_MEMBERS_SQL = f"""
    SELECT u.id, u.username, u.display_name, u.avatar, m.role, COALESCE(rs.last_read_seq, 0)
    FROM {_MEMBERSHIP} m JOIN {_USER} u ON u.id = m.user_id
    LEFT JOIN {_READ_STATE} rs ON rs.user_id = m.user_id AND rs.conversation_id = %s
    WHERE m.group_id = %s ORDER BY u.username LIMIT %s
"""  # noqa: S608 (table and column names come from the models, values are parameters)
_PARTICIPANTS_SQL = f"""
    SELECT u.id, u.username, u.display_name, u.avatar, NULL, COALESCE(rs.last_read_seq, 0)
    FROM {_USER} u
    LEFT JOIN {_READ_STATE} rs ON rs.user_id = u.id AND rs.conversation_id = %s
    WHERE u.id IN (%s, %s) ORDER BY u.username
"""  # noqa: S608 (table and column names come from the models, values are parameters)


def conversation_members(conversation: Conversation, *, limit: int | None = None) -> list[User]:
    """Who is in a conversation, by username: the group's members, or the two participants.

    Each user (names and avatar only) has `role` (None in a direct conversation) and `read_seq`,
    how far they have read this conversation (0 if never), for "seen by". One query;
    `limit` caps the rows read, so a page of a very large group stays one small query.
    """
    if conversation.is_direct:
        params = [conversation.pk, conversation.user_low_id, conversation.user_high_id]
        rows = rawsql.fetch(_PARTICIPANTS_SQL, params, (), prepared=True)
    else:
        rows = rawsql.fetch(
            _MEMBERS_SQL, [conversation.pk, conversation.group_id, limit or _SEQ_MAX], (), prepared=True
        )
    new_user = rawsql.instances(User, connection.alias, _USER_FIELDS)
    members = []
    for row in rows:
        user = new_user(row[:_USER_WIDTH])
        user.role, user.read_seq = row[_USER_WIDTH], row[_USER_WIDTH + 1]
        members.append(user)
    return members


def message_by_seq(conversation: Conversation, seq: int) -> Message | None:
    """One message of a conversation, with its author, or None."""
    return Message.objects.select_related("author").filter(conversation=conversation, seq=seq).first()


def can_see_conversation(conversation: Conversation) -> Q:
    """A filter of User rows: the people who can see the conversation (its group's members, or
    the two people of a direct one): who a mention may name, and the composer suggests."""
    if conversation.is_direct:
        return Q(pk__in=[pk for pk in (conversation.user_low_id, conversation.user_high_id) if pk])
    return Q(memberships__group_id=conversation.group_id)


def conversation_member_ids(conversation: Conversation) -> list[int]:
    if conversation.is_direct:
        return [conversation.user_low_id, conversation.user_high_id]
    return list(conversation.group.memberships.values_list("user_id", flat=True))


def group_conversations(group_id: int) -> QuerySet[Conversation]:
    return Conversation.objects.filter(group_id=group_id, kind=Conversation.Kind.GROUP).order_by("created_at", "pk")


def default_conversation(group) -> Conversation | None:
    """A group's first conversation ("general" unless renamed): where its members land."""
    return group_conversations(group.pk).first()


# `Reaction.objects.filter(message_id__in=ids).order_by("message_id", "created_at", "pk")
# .values_list("message_id", "emoji", "user_id")`, written out: compiled anew for each page it cost about
# 0.5 ms of CPU (bench/page_cpu.py). tests/messaging/test_selectors.py holds the two equal.
_REACTORS_SQL = (
    f"SELECT message_id, emoji, user_id FROM {connection.ops.quote_name(Reaction._meta.db_table)} "  # noqa: S608 (names from the model)
    f"WHERE message_id IN ({{ids}}) ORDER BY message_id, created_at, {Reaction._meta.pk.column}"
)


def reactors_by_message(message_ids) -> dict[int, dict[str, list[int]]]:
    """Each message's reactions as {emoji: [user ids, oldest first]}, emoji in the order first
    used (serializers.reactions_json turns it into the contract's shape). One query, none for no ids."""
    found: dict[int, dict[str, list[int]]] = {}
    ids = list(message_ids)
    if not ids:
        return found
    rows = rawsql.fetch(_REACTORS_SQL.format(ids=", ".join(["%s"] * len(ids))), ids, ())
    for message_id, emoji, user_id in rows:
        found.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    return found


def attach_reactions(messages: list[Message], viewer_id: int | None) -> list[Message]:
    """Set each message's `reaction_list` as this reader sees it (serializers.message_json
    carries it): one query for a whole page, none when `messages_page` found no reaction on it
    (its `has_reactions`)."""
    reactors = reactors_by_message([m.pk for m in messages if not m.deleted and getattr(m, "has_reactions", True)])
    for message in messages:
        message.reaction_list = reactions_json(reactors.get(message.pk, {}), viewer_id)
    return messages


def attach_replies(messages: list[Message]) -> list[Message]:
    """Load the originals the replies among `messages` answer, with their authors: one query
    for a whole page instead of one per reply (serializers.reply_json reads them)."""
    ids = {m.reply_to_id for m in messages if m.reply_to_id is not None}
    if not ids:
        return messages
    originals = (
        Message.objects.filter(pk__in=ids)
        .select_related("author")
        .only("pk", "seq", "body", "deleted", "author_id", *(f"author__{name}" for name in _USER_FIELDS))
    )
    by_id = {original.pk: original for original in originals}
    for message in messages:
        if message.reply_to_id is not None:
            message._state.fields_cache["reply_to"] = by_id.get(message.reply_to_id)
    return messages


def mention_targets(conversation: Conversation, body: str) -> dict[str, int | str]:
    """Who `@names` in `body` may mention: {lower-case username: user id} of the active users who
    can see the conversation, and {"all": "all"} in a group's conversation. A name of anyone
    else is left out (it stays text and notifies nobody). No query without an "@"."""
    names = rendering.mentioned_names(body)
    if not names:
        return {}
    targets: dict[str, int | str] = {}
    if "all" in names and not conversation.is_direct:
        targets["all"] = "all"
    members = User.objects.filter(is_active=True)
    if conversation.is_direct:
        members = members.filter(pk__in=[conversation.user_low_id, conversation.user_high_id])
    else:
        members = members.filter(memberships__group_id=conversation.group_id)
    wanted = names - {"all"} if "all" in targets else names
    if wanted:
        for user_id, username in (
            members.annotate(lower=Lower("username")).filter(lower__in=wanted).values_list("pk", "username")
        ):
            targets[username.lower()] = user_id
    return targets


def mentioned_user_ids(conversation: Conversation, targets: dict[str, int | str]) -> set[int]:
    """The users a message's mentions reach (every member for "all")."""
    ids = {target for target in targets.values() if target != "all"}
    if "all" in targets:
        ids |= set(conversation_member_ids(conversation))
    return ids


def recent_mentions(user, limit: int = 50) -> list[Mention]:
    """The user's newest mentions in conversations they can still see, with message and author."""
    return list(
        Mention.objects.filter(user=user, conversation__in=Conversation.objects.filter(visible_to(user)))
        .select_related("message__author", "conversation__group", "conversation__user_low", "conversation__user_high")
        .order_by("-created_at", "-pk")[:limit]
    )
