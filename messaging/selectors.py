"""Every read about conversations and messages that needs a rule or a careful query."""

from django.conf import settings
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from messaging.access import visible_to
from messaging.models import Conversation, Message, ReadState


def _read_seq(user) -> Subquery:
    state = ReadState.objects.filter(user=user, conversation=OuterRef("pk")).values("last_read_seq")[:1]
    return Coalesce(Subquery(state, output_field=IntegerField()), Value(0))


def _unread_count(user) -> Subquery:
    """Messages after the user's read marker, not deleted and not their own."""
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), seq__gt=OuterRef("read_seq"), deleted=False)
        .exclude(author=user)
        .order_by()
        .values("conversation")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), Value(0))


def conversations_for_user(user) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first, with unread counts. Constant queries."""
    last_body = Message.objects.filter(conversation=OuterRef("pk"), seq=OuterRef("last_seq")).values("body")[:1]
    last_deleted = Message.objects.filter(conversation=OuterRef("pk"), seq=OuterRef("last_seq")).values("deleted")[:1]
    return (
        Conversation.objects.filter(visible_to(user))
        .select_related("group", "user_low", "user_high")
        .annotate(read_seq=_read_seq(user))
        .annotate(unread=_unread_count(user), last_body=Subquery(last_body), last_deleted=Subquery(last_deleted))
        .order_by(F("last_message_at").desc(nulls_last=True), "-created_at", "-pk")
    )


def conversation_cursors_for_user(user) -> list[dict]:
    """`[{"id", "last_seq", "unread"}]` for the socket's `hello` frame. One query."""
    rows = (
        Conversation.objects.filter(visible_to(user))
        .annotate(read_seq=_read_seq(user))
        .annotate(unread=_unread_count(user))
        .order_by("pk")
        .values("pk", "last_seq", "unread")
    )
    return [{"id": r["pk"], "last_seq": r["last_seq"], "unread": r["unread"]} for r in rows]


def unread_count(user, conversation_id: int) -> int:
    read_seq = (
        ReadState.objects.filter(user=user, conversation_id=conversation_id)
        .values_list("last_read_seq", flat=True)
        .first()
        or 0
    )
    return (
        Message.objects.filter(conversation_id=conversation_id, seq__gt=read_seq, deleted=False)
        .exclude(author=user)
        .count()
    )


def messages_page(
    conversation: Conversation, *, before: int | None = None, after: int | None = None, limit: int | None = None
) -> tuple[list[Message], bool]:
    """A page of history, oldest first, and whether more exist in the direction read.

    With `after`: the first `limit` messages with after < seq (< before); otherwise
    the last `limit` messages before `before` (or the latest).
    """
    limit = limit or settings.HISTORY_PAGE_SIZE
    queryset = Message.objects.filter(conversation=conversation).select_related("author")
    if before is not None:
        queryset = queryset.filter(seq__lt=before)
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[: limit + 1])
        return rows[:limit], len(rows) > limit
    rows = list(queryset.order_by("-seq")[: limit + 1])
    has_more = len(rows) > limit
    return list(reversed(rows[:limit])), has_more


def messages_after(conversation_id: int, after: int, limit: int) -> list[Message]:
    """For `sync`: messages after a cursor, in seq order."""
    return list(
        Message.objects.filter(conversation_id=conversation_id, seq__gt=after)
        .select_related("author")
        .order_by("seq")[:limit]
    )


def conversation_members(conversation: Conversation, *, limit: int | None = None) -> list[User]:
    """Who is in a conversation: the group's members, or the two participants.

    `limit` caps the rows read, so a page of a very large group stays one small query.
    """
    if conversation.is_direct:
        return list(
            User.objects.filter(pk__in=[conversation.user_low_id, conversation.user_high_id]).order_by("username")
        )
    members = (
        User.objects.filter(memberships__group_id=conversation.group_id)
        .annotate(role=F("memberships__role"))
        .order_by("username")
    )
    return list(members[:limit] if limit is not None else members)


def message_by_seq(conversation: Conversation, seq: int) -> Message | None:
    """One message of a conversation, with its author, or None."""
    return Message.objects.select_related("author").filter(conversation=conversation, seq=seq).first()


def conversation_member_ids(conversation: Conversation) -> list[int]:
    if conversation.is_direct:
        return [conversation.user_low_id, conversation.user_high_id]
    return list(conversation.group.memberships.values_list("user_id", flat=True))


def group_conversations(group_id: int) -> QuerySet[Conversation]:
    return Conversation.objects.filter(group_id=group_id, kind=Conversation.Kind.GROUP).order_by("created_at", "pk")


def read_states(conversation: Conversation, *, exclude_user=None) -> list[ReadState]:
    """Read markers of a conversation's members, for "seen by" under the latest message."""
    queryset = ReadState.objects.filter(conversation=conversation, last_read_seq__gt=0).select_related("user")
    if exclude_user is not None:
        queryset = queryset.exclude(user=exclude_user)
    if not conversation.is_direct:
        queryset = queryset.filter(user__memberships__group_id=conversation.group_id)
    else:
        queryset = queryset.filter(Q(user_id=conversation.user_low_id) | Q(user_id=conversation.user_high_id))
    return list(queryset.order_by("-last_read_seq")[:50])
