"""Every write about conversations and messages. Views and consumers both call these."""

from contextlib import nullcontext
from functools import cache

import emoji as emoji_data
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_by_name
from chatsite import ratelimit
from chatsite.errors import Invalid, NotFound, RateLimited
from chatsite.numbers import row_id
from chatsite.sockets import Outbox, commit_order
from groups.access import access_group, require_manager
from messaging import access, events, protocol, rawsql, rendering, unread
from messaging import attachments as attachments_
from messaging.access import access_conversation, check_can_delete, check_can_edit
from messaging.missed import missed_message_schedule
from messaging.models import Conversation, Mention, Message, Mute, Reaction, ReadState, Star
from messaging.selectors import (
    attach_reactions,
    conversation_member_ids,
    conversations_read_behind,
    group_conversations,
    mention_targets,
    mentioned_user_ids,
    reactors_by_message,
    read_marker,
)
from messaging.serializers import conversation_json, message_json, reactions_json, user_json


def clean_body(body, *, allow_blank: bool = False) -> str:
    """Plain text, 1 to MESSAGE_MAX_LENGTH characters after stripping (0 with `allow_blank`:
    a message of files only)."""
    if body is None and allow_blank:
        body = ""
    if not isinstance(body, str):
        raise Invalid("The message must be text.", code="invalid")
    body = body.strip()
    if not body and not allow_blank:
        raise Invalid("Write something before sending.", code="blank")
    if len(body) > settings.MESSAGE_MAX_LENGTH:
        raise Invalid(
            f"Messages can be at most {settings.MESSAGE_MAX_LENGTH} characters (this one has {len(body)}).",
            code="too_long",
        )
    return body


def clean_topic_name(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise Invalid("Give the conversation a name.", code="blank")
    if len(name) > 80:
        raise Invalid("Conversation names can be at most 80 characters.", code="too_long")
    return name


def check_message_rate(actor: User) -> None:
    """RateLimited past MESSAGE_RATE_LIMIT writes per MESSAGE_RATE_WINDOW seconds: one limit for
    sends, edits and deletes, per user, whichever page, script or socket they come from."""
    window = settings.MESSAGE_RATE_WINDOW
    if not ratelimit.hit("message", actor.pk, limit=settings.MESSAGE_RATE_LIMIT, window=window):
        error = RateLimited()
        error.retry_after = ratelimit.seconds_left(window)  # `Retry-After` on the page or JSON that refuses
        raise error


def _next_seq(conversation_id: int, now) -> int:
    """Take the next seq: one UPDATE … RETURNING that holds the row lock until commit.

    Concurrent senders in any process queue on that lock, so seqs are gap-free and
    unique; a rolled-back send also rolls back its seq.
    """
    table = Conversation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_seq = last_seq + 1, last_message_at = %s WHERE id = %s RETURNING last_seq",  # noqa: S608
            [now, conversation_id],
        )
        return cursor.fetchone()[0]


def _reply_target(conversation: Conversation, reply_to) -> Message | None:
    """The message a reply answers: a seq of the same conversation (None: not a reply)."""
    if reply_to is None or reply_to == "":
        return None
    seq = row_id(reply_to)
    if seq is None:
        raise Invalid("reply_to must be the seq of a message in this conversation.", code="invalid")
    original = Message.objects.select_related("author").filter(conversation=conversation, seq=seq).first()
    if original is None:
        raise Invalid("reply_to must be the seq of a message in this conversation.", code="invalid")
    return original


def message_send(
    *,
    actor: User,
    conversation_id,
    body,
    client_id: str | None = None,
    reply_to=None,
    attachments=None,
    check_rate: bool = True,
    outbox: Outbox | None = None,
) -> tuple[Message, bool]:
    """Store a message, then (after commit) deliver it. Returns (message, created).

    Re-sending a `client_id` this author already used returns the original
    message instead of storing a copy. RateLimited past the per-user message
    rate (`check_message_rate`); operator tools that write in bulk (seed_demo,
    bench_sessions) pass `check_rate=False`. The message's JSON, built once for
    the event, is left on the returned message as `as_json` (the socket's ack).
    With an `outbox`, the events are left there for the caller to publish.
    `attachments`: ids of the author's uploads in this conversation
    (`messaging.attachments.attachment_upload`), stored with the message in its
    transaction; with at least one, the text may be empty.
    """
    attachment_ids = attachments_.clean_ids(attachments)
    body = clean_body(body, allow_blank=bool(attachment_ids))
    if client_id is not None and (not isinstance(client_id, str) or not 0 < len(client_id) <= 64):
        raise Invalid("client_id must be a string of 1 to 64 characters.")
    if check_rate:
        check_message_rate(actor)
    # A re-sent client_id is rare (a retry after a dropped socket): rather than look it up
    # before every send, let the (author, client_id) unique constraint refuse the copy; the
    # rollback also returns the seq, and the original is answered below.
    conversation = message = None
    fields = {"body": body, "reply_to": None, "client_id": client_id}
    alone = _alone(body, reply_to, attachment_ids)
    if alone:
        fields["html"] = rendering.render(body, mentions={})
    try:
        # Held from before the seq is taken until the event is handed over: this process publishes
        # a conversation's messages in seq order (chatsite.sockets.commit_order).
        with commit_order(row_id(conversation_id) or 0):
            if alone:
                conversation, message = _store_alone(actor, conversation_id, fields)
            if message is None:  # the gate refused it, or it has more than a row to store
                if conversation is None:
                    conversation, _membership = access_conversation(actor, conversation_id)
                fields["reply_to"] = _reply_target(conversation, reply_to)
                mentions = mention_targets(conversation, body)
                # Before the write: the seq's row lock is not held while rendering.
                fields["html"] = rendering.render(body, mentions=mentions)
                mentioned = mentioned_user_ids(conversation, mentions) - {actor.pk}
                message = _store_with_extras(conversation, actor, fields, mentioned, attachment_ids)
            message.as_json = message_json(message)
            events.to_conversation(
                message.conversation_id,
                {"type": protocol.MESSAGE_NEW, "message": message.as_json},
                author_id=actor.pk,
                outbox=outbox,
            )
    except IntegrityError:
        # This client_id was used before (a retry, or a race with another process): answer with that one.
        existing = _message_by_client_id(actor, client_id) if client_id else None
        if existing is None:
            raise
        if conversation is None:
            conversation, _membership = access_conversation(actor, conversation_id)
        existing = _same_conversation(existing, conversation)
        attach_reactions([existing], actor.pk)
        existing.as_json = message_json(existing)
        return existing, False
    return message, True


# Where `_store_alone`'s single statement can run: PostgreSQL takes a data-modifying CTE; SQLite does not.
_ONE_STATEMENT_VENDORS = frozenset({"postgresql"})


def _alone(body: str, reply_to, attachment_ids: list[str]) -> bool:
    """Whether the message may be nothing but its row (`_store_alone`): no files, not a reply, no `@name`
    (told from the text alone, before any query; a direct conversation is told by the statement)."""
    return (
        connection.vendor in _ONE_STATEMENT_VENDORS
        and not attachment_ids
        and reply_to in (None, "")
        and not rendering.mentioned_names(body)
    )


# The gate's own query (messaging.access: the one access rule) as the first part of the statement,
# its columns renamed (a conversation's and a group's both have an `id`). Only a group's conversation
# is written: a direct one's missed-message notice is stored with the message, in the transaction.
_ACCESS_COLUMNS = [f"a{i}" for i in range(len(access.ACCESS_FIELDS))]
# The gate's row comes back only when nothing was stored (a direct conversation): a stored message needs
# its id and seq alone, and NULLs cost the driver nothing to read (the row holds three timestamps).
_STORE_ALONE_SQL = f"""
WITH allowed ({", ".join(_ACCESS_COLUMNS)}) AS ({access.ACCESS_SQL}),
taken AS (
    UPDATE {Conversation._meta.db_table} SET last_seq = last_seq + 1, last_message_at = %s
    WHERE id = (SELECT a0 FROM allowed WHERE {_ACCESS_COLUMNS[access.ACCESS_KIND_COLUMN]} = 'group')
    RETURNING id, last_seq
),
stored AS (
    INSERT INTO {Message._meta.db_table}
        (conversation_id, seq, author_id, body, html, reply_to_id, client_id, created_at, edited_at, deleted)
    SELECT taken.id, taken.last_seq, %s, %s, %s, NULL, %s, %s, NULL, FALSE FROM taken
    RETURNING id, conversation_id, seq
)
SELECT stored.id, stored.conversation_id, stored.seq,
    {", ".join(f"CASE WHEN stored.id IS NULL THEN allowed.{column} END" for column in _ACCESS_COLUMNS)}
FROM allowed LEFT JOIN stored ON TRUE
"""  # noqa: S608 (table names from the models; every value is a parameter)
_STORED_COLUMNS = 3
# A stored message as the statement knows it, made without Model.__init__ (rawsql.instances).
_MESSAGE_FIELDS = [f.attname for f in Message._meta.concrete_fields]


def _store_alone(actor: User, conversation_id, fields: dict) -> tuple[Conversation | None, Message | None]:
    """A group message with nothing stored beside it (no mentions, files or reply), on PostgreSQL: the
    access check, the seq's `UPDATE … RETURNING` and the insert in one statement, which commits on its own.

    The conversation's row lock is held for that statement only, not across a transaction's round
    trips and the Python work between them (under load, the database spent its time idle in
    transaction, waiting for the interpreter: BENCHMARKS.md). Returns (None, None) when the gate
    refuses (the caller asks `access_conversation` for the error), (None, the message) once stored
    (its conversation is read only if a caller asks for it), and (the conversation, None) for a
    direct conversation, which `_store_with_extras` writes. The same row as `_store_with_extras`
    writes; tests/messaging/test_store_alone.py compares the two. A fixed statement run on every
    plain message: `rawsql.prepared_cursor` has PostgreSQL plan it once per connection.
    """
    params = access.access_params(actor, conversation_id)
    if params is None:
        return None, None
    now = timezone.now()
    params += [now, actor.pk, fields["body"], fields["html"], fields["client_id"], now]
    # Inside a caller's transaction, a savepoint keeps a refused copy (IntegrityError) from breaking it.
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), rawsql.prepared_cursor() as cursor:
        cursor.execute(_STORE_ALONE_SQL, params)
        row = cursor.fetchone()
    if row is None:
        return None, None
    message_id, stored_in, seq = row[:_STORED_COLUMNS]
    if message_id is None:
        conversation, _membership = access.access_from_row(
            actor, rawsql.convert(row[_STORED_COLUMNS:], access.ACCESS_FIELDS)
        )
        return conversation, None
    values = {
        **fields,
        "id": message_id,
        "conversation_id": stored_in,
        "seq": seq,
        "author_id": actor.pk,
        "reply_to_id": None,
        "created_at": now,
        "edited_at": None,
        "deleted": False,
    }
    message = rawsql.instances(Message, connection.alias, _MESSAGE_FIELDS)([values[name] for name in _MESSAGE_FIELDS])
    message._state.fields_cache["author"] = actor
    message.attachment_list = []
    return None, message


def _store_with_extras(
    conversation: Conversation, actor: User, fields: dict, mentioned: set[int], attachment_ids: list[str]
) -> Message:
    """A message with its mentions, files and missed-message notices, in one transaction."""
    with transaction.atomic():
        now = timezone.now()
        seq = _next_seq(conversation.pk, now)
        message = Message.objects.create(conversation=conversation, seq=seq, author=actor, created_at=now, **fields)
        _store_mentions(message, mentioned, new=True)
        message.attachment_list = attachments_.attach(actor=actor, message=message, attachment_ids=attachment_ids)
        missed = set(mentioned)  # told by email if it stays unread (messaging.missed)
        if conversation.is_direct:
            other = conversation.user_high_id if conversation.user_low_id == actor.pk else conversation.user_low_id
            if other is not None and other != actor.pk:
                missed.add(other)
        for user_id in sorted(missed):
            missed_message_schedule(user_id)
    return message


def _store_mentions(message: Message, user_ids: set[int], *, new: bool) -> tuple[set[int], set[int]]:
    """Make the message's stored mentions exactly `user_ids` (on send, and again on edit); the ids
    of the users whose mention was added, and of those whose mention was dropped."""
    dropped: set[int] = set()
    if not new:
        stored = set(Mention.objects.filter(message=message).values_list("user_id", flat=True))
        dropped = stored - user_ids
        if dropped:
            Mention.objects.filter(message=message, user_id__in=dropped).delete()
        user_ids = user_ids - stored
    if user_ids:
        Mention.objects.bulk_create(
            [
                Mention(message=message, user_id=uid, conversation_id=message.conversation_id, seq=message.seq)
                for uid in user_ids
            ]
        )
    return user_ids, dropped


def _message_by_client_id(actor: User, client_id: str) -> Message | None:
    return Message.objects.select_related("author").filter(author=actor, client_id=client_id).first()


def _same_conversation(message: Message, conversation: Conversation) -> Message:
    if message.conversation_id != conversation.pk:
        raise Invalid("That client_id was already used for another conversation.")
    return message


def _message_for_change(actor: User, conversation_id, seq):
    conversation, membership = access_conversation(actor, conversation_id)
    seq = row_id(seq)
    if seq is None:  # not a seq, or out of the column's range: the database would raise, not answer
        raise NotFound("No such message.")
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("author")
        .filter(conversation=conversation, seq=seq)
        .first()
    )
    if message is None:
        raise NotFound("No such message.")
    return conversation, membership, message


@transaction.atomic
def message_edit(
    *, actor: User, conversation_id, seq, body, check_rate: bool = True, outbox: Outbox | None = None
) -> Message:
    body = clean_body(body)
    if check_rate:
        check_message_rate(actor)
    conversation, _membership, message = _message_for_change(actor, conversation_id, seq)
    check_can_edit(actor, message)
    if message.body != body:
        mentions = mention_targets(conversation, body)
        message.body = body
        message.html = rendering.render(body, mentions=mentions)
        added, dropped = _store_mentions(message, mentioned_user_ids(conversation, mentions) - {actor.pk}, new=False)
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "html", "edited_at"])
        reactors = reactors_by_message([message.pk]).get(message.pk, {})
        events.to_conversation(
            conversation.pk,
            {
                "type": protocol.MESSAGE_EDITED,
                "message": message_json(message),
                # Every reactor per emoji: each socket sets its reader's `reactions` and drops this.
                "reactors": reactors,
                # Whose unread mentions may have changed: those sockets count again (and drop this).
                "mentions_changed": sorted(added | dropped),
            },
            author_id=actor.pk,
            outbox=outbox,
        )
        for user_id in sorted(added):  # a mention added by an edit is mailed like one sent (messaging.missed)
            missed_message_schedule(user_id)
        message.reaction_list = reactions_json(reactors, actor.pk)
    return message


@transaction.atomic
def message_delete(
    *, actor: User, conversation_id, seq, check_rate: bool = True, outbox: Outbox | None = None
) -> Message:
    """Delete a message: its seq stays, its text is gone."""
    if check_rate:
        check_message_rate(actor)
    _conversation, membership, message = _message_for_change(actor, conversation_id, seq)
    check_can_delete(actor, message, membership)
    if not message.deleted:
        message_erase(Message.objects.filter(pk=message.pk), outbox=outbox)
        message.deleted, message.body, message.html = True, "", ""
    return message


def message_erase(messages: QuerySet[Message], *, hide_author: bool = False, outbox: Outbox | None = None) -> int:
    """Soft-delete messages: the one way the chat, the admin and account deletion delete them.

    The rows and their seqs stay, so conversations keep gap-free seqs; the text goes.
    Their files are deleted with them (the bytes once the transaction commits).
    Open clients get `message.deleted` for those among the newest HISTORY_PAGE_SIZE of
    their conversation: older ones cannot be on screen, and load already deleted (one
    event per message of a long history took seconds). `hide_author` shows them as from
    "deleted user" (an account being deleted). Returns how many were erased. Runs in
    the caller's transaction.
    """
    erased = messages.filter(deleted=False)
    newest = settings.HISTORY_PAGE_SIZE
    on_screen = list(erased.filter(seq__gt=F("conversation__last_seq") - newest).select_related("author"))
    Mention.objects.filter(message__in=erased).delete()  # a deleted message mentions nobody
    attachments_.delete_for_messages(erased)
    count = erased.update(deleted=True, body="", html="")
    for message in on_screen:
        message.deleted, message.body, message.html = True, "", ""
        if hide_author:
            message.author = None
        events.to_conversation(
            message.conversation_id,
            {"type": protocol.MESSAGE_DELETED, "message": message_json(message)},
            author_id=message.author_id,
            outbox=outbox,
        )
    return count


VARIATION_SELECTOR = "\ufe0f"  # "show as emoji": ❤ and ❤️ are one emoji, written without it and with it


@cache
def _fully_qualified() -> dict[str, str]:
    """Each emoji's fully-qualified form (the one keyboards and the page's picker send), by the emoji
    without its variation selectors."""
    fully_qualified = emoji_data.STATUS["fully_qualified"]
    return {
        name.replace(VARIATION_SELECTOR, ""): name
        for name, data in emoji_data.EMOJI_DATA.items()
        if data["status"] == fully_qualified
    }


def clean_emoji(value) -> str:
    """One emoji grapheme (a flag, a family, a keycap, a skin tone are one each), in its fully-qualified
    form: ❤ sent by one keyboard and ❤️ by another are the same reaction, not two."""
    value = value.strip() if isinstance(value, str) else ""
    if not value or len(value) > 32 or not emoji_data.is_emoji(value):
        raise Invalid("Choose one emoji.", code="invalid")
    return _fully_qualified().get(value.replace(VARIATION_SELECTOR, ""), value)


@transaction.atomic
def reaction_toggle(
    *, actor: User, conversation_id, seq, emoji, outbox: Outbox | None = None
) -> tuple[Message, list[dict]]:
    """Add the actor's `emoji` to a visible, non-deleted message, or take it back.

    Returns the message and its reactions as the actor sees them; every member's sockets get
    `reaction.changed` (each reader's `mine` is set by their socket, from `reactors`).
    """
    emoji = clean_emoji(emoji)
    check_message_rate(actor)
    conversation, _membership, message = _message_for_change(actor, conversation_id, seq)
    if message.deleted:
        raise Invalid("A deleted message cannot get reactions.", code="invalid")
    mine = Reaction.objects.filter(message=message, user=actor, emoji=emoji)
    if not mine.delete()[0]:
        used = set(Reaction.objects.filter(message=message).values_list("emoji", flat=True).distinct())
        if emoji not in used and len(used) >= settings.REACTION_MAX_EMOJI:
            raise Invalid(
                f"A message can have at most {settings.REACTION_MAX_EMOJI} different reactions.", code="invalid"
            )
        Reaction.objects.create(message=message, user=actor, emoji=emoji)
    reactors = reactors_by_message([message.pk]).get(message.pk, {})
    events.to_conversation(
        conversation.pk,
        {
            "type": protocol.REACTION_CHANGED,
            "conversation": conversation.pk,
            "seq": message.seq,
            "reactions": reactions_json(reactors, None),
            # Every reactor per emoji: each socket sets its reader's `mine` and drops this.
            "reactors": reactors,
        },
        author_id=actor.pk,
        outbox=outbox,
    )
    return message, reactions_json(reactors, actor.pk)


@transaction.atomic
def conversation_mute_toggle(*, actor: User, conversation_id) -> bool:
    """Mute the conversation for the actor, or unmute it. Returns whether it is muted now."""
    conversation, _membership = access_conversation(actor, conversation_id)
    muted = not Mute.objects.filter(user=actor, conversation=conversation).delete()[0]
    if muted:
        Mute.objects.get_or_create(user=actor, conversation=conversation)
    # The user's other tabs re-sort their sidebar and stop notifying at once.
    events.to_users([actor.pk], {"type": protocol.CONVERSATION_MUTED, "conversation": conversation.pk, "muted": muted})
    return muted


@transaction.atomic
def conversation_star_toggle(*, actor: User, conversation_id) -> bool:
    """Star the conversation for the actor, or unstar it. Returns whether it is starred now.

    The actor's other tabs move it in or out of their "Starred" section (`conversation.starred`)."""
    conversation, _membership = access_conversation(actor, conversation_id)
    starred = not Star.objects.filter(user=actor, conversation=conversation).delete()[0]
    if starred:
        Star.objects.get_or_create(user=actor, conversation=conversation)
    frame = {"type": protocol.CONVERSATION_STARRED, "conversation": conversation.pk, "starred": starred}
    events.to_users([actor.pk], frame)
    return starred


# Move a read marker forward in one statement: insert it, or raise it if it is behind.
# A row comes back only when the marker was created or moved (PostgreSQL, SQLite >= 3.35).
_READ_MARK_SQL = f"""
    INSERT INTO {ReadState._meta.db_table} (user_id, conversation_id, last_read_seq, updated_at)
    VALUES (%s, %s, %s, %s)
    ON CONFLICT (user_id, conversation_id) DO UPDATE
        SET last_read_seq = excluded.last_read_seq, updated_at = excluded.updated_at
        WHERE {ReadState._meta.db_table}.last_read_seq < excluded.last_read_seq
    RETURNING last_read_seq
"""  # noqa: S608 (the table name comes from the model, values are parameters)


def _read_marker_raise(actor: User, conversation_id: int, seq: int) -> bool:
    """Raise the marker to `seq` if it is behind (creating it if need be). Whether it moved."""
    with connection.cursor() as cursor:
        cursor.execute(_READ_MARK_SQL, [actor.pk, conversation_id, seq, timezone.now()])
        return cursor.fetchone() is not None


def _publish_read(actor: User, moved: dict[int, int], outbox: Outbox | None) -> None:
    """`read` to the other members of each conversation, `unread` (counted now) to the reader's sockets."""
    counts = unread.counts(actor, moved)
    for conversation_id, seq in moved.items():
        events.to_conversation(
            conversation_id,
            {"type": protocol.READ, "conversation": conversation_id, "user": user_json(actor), "seq": seq},
            author_id=actor.pk,
            outbox=outbox,
        )
        count, mentions = counts.get(conversation_id, (0, 0))
        events.to_users(
            [actor.pk],
            {"type": protocol.UNREAD, "conversation": conversation_id, "count": count, "mentions": mentions},
            outbox=outbox,
        )


def read_mark(*, actor: User, conversation_id, seq, outbox: Outbox | None = None) -> int:
    """Move the user's read marker forward (never back). Returns the marker."""
    conversation, _membership = access_conversation(actor, conversation_id)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise Invalid("seq must be a whole number of zero or more.")
    seq = min(seq, conversation.last_seq)
    # One statement, so no transaction of its own: the events go out once it is committed.
    if not _read_marker_raise(actor, conversation.pk, seq) or seq == 0:
        # already that far (or further), or a new marker at 0
        return max(seq, read_marker(actor, conversation.pk))
    _publish_read(actor, {conversation.pk: seq}, outbox)
    return seq


@transaction.atomic
def read_mark_all(*, actor: User, outbox: Outbox | None = None) -> dict[int, int]:
    """ "Mark all as read": every conversation the user can see, read up to its last seq.
    Returns `{conversation id: seq}` of the markers that moved; their events go out after commit."""
    moved = {
        conversation_id: last_seq
        for conversation_id, last_seq in conversations_read_behind(actor)
        if _read_marker_raise(actor, conversation_id, last_seq)
    }
    _publish_read(actor, moved, outbox)
    return moved


def read_marks_start(*, group_id: int, user_ids) -> None:
    """New members of a group start with its history read: their marker in each of its
    conversations at the conversation's last seq (called wherever memberships are created,
    through groups.registry `joined`). Nothing is published: their sockets count from the
    marker when they gain the conversation."""
    now = timezone.now()
    conversations = list(group_conversations(group_id).filter(last_seq__gt=0).values_list("pk", "last_seq"))
    for user_id in user_ids:
        for conversation_id, last_seq in conversations:
            with connection.cursor() as cursor:
                cursor.execute(_READ_MARK_SQL, [user_id, conversation_id, last_seq, now])


def typing_notify(*, actor: User, conversation_id, outbox: Outbox | None = None) -> None:
    """Tell the other members someone is typing. Nothing is stored."""
    conversation, _membership = access_conversation(actor, conversation_id)
    events.to_conversation(
        conversation.pk,
        {"type": protocol.TYPING, "conversation": conversation.pk, "user": user_json(actor)},
        author_id=actor.pk,
        outbox=outbox,
    )


def _announce(conversation: Conversation, user_ids) -> None:
    """Tell each user's sockets they gained a conversation (after commit)."""
    users = {u.pk: u for u in User.objects.filter(pk__in=list(user_ids))}
    for user in users.values():
        events.conversation_added(user.pk, conversation_json(conversation, user))


@transaction.atomic
def topic_create(*, actor: User, group_id, name) -> Conversation:
    """A new named conversation in a group; any member may start one."""
    name = clean_topic_name(name)
    group, _membership = access_group(actor, group_id)
    if Conversation.objects.filter(group=group, kind=Conversation.Kind.GROUP, name__iexact=name).exists():
        raise Invalid(f"This group already has a conversation named “{name}”.", code="duplicate")
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP, group=group, name=name)
    except IntegrityError:
        raise Invalid(f"This group already has a conversation named “{name}”.", code="duplicate") from None
    _announce(conversation, conversation_member_ids(conversation))
    return conversation


@transaction.atomic
def topic_rename(*, actor: User, conversation_id, name) -> Conversation:
    """Rename a group's conversation: the group's owner and admins only; names stay unique in the group."""
    conversation, membership = access_conversation(actor, conversation_id)
    if membership is None:
        raise Invalid("Direct conversations have no name to change.")
    require_manager(membership)
    name = clean_topic_name(name)
    taken = Conversation.objects.filter(group_id=conversation.group_id, kind=Conversation.Kind.GROUP, name__iexact=name)
    if taken.exclude(pk=conversation.pk).exists():
        raise Invalid(f"This group already has a conversation named “{name}”.", code="duplicate")
    conversation.name = name
    try:
        with transaction.atomic():
            conversation.save(update_fields=["name"])
    except IntegrityError:
        raise Invalid(f"This group already has a conversation named “{name}”.", code="duplicate") from None
    return conversation


def direct_open(*, actor: User, username: str) -> tuple[Conversation, bool]:
    """The direct conversation between the actor and `username` (or a display name only one person has),
    created on first use."""
    other = user_by_name(username)
    if other.pk == actor.pk:
        raise Invalid("You cannot start a direct conversation with yourself.")
    low, high = sorted([actor, other], key=lambda u: u.pk)
    existing = Conversation.objects.filter(kind=Conversation.Kind.DIRECT, user_low=low, user_high=high).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(kind=Conversation.Kind.DIRECT, user_low=low, user_high=high)
            _announce(conversation, [low.pk, high.pk])
    except IntegrityError:  # the other side opened it at the same moment
        return Conversation.objects.get(kind=Conversation.Kind.DIRECT, user_low=low, user_high=high), False
    return conversation, True
