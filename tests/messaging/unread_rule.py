"""The unread rule written with the ORM: the reference the SQL of `messaging.unread` is held to.

Only tests use these forms (tests/messaging/test_unread.py, test_selectors.py,
test_realtime_selectors.py): the application counts through `messaging.unread` alone.
"""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from messaging.access import visible_to
from messaging.models import Conversation, Mention, Message, ReadState


def read_marker(user, conversation_id: int) -> int:
    state = ReadState.objects.filter(user=user, conversation_id=conversation_id).first()
    return state.last_read_seq if state else 0


def unread_messages(user, conversation_id: int, *, read_seq: int | None = None):
    """Messages after the user's read marker, not deleted, not theirs."""
    if read_seq is None:
        read_seq = read_marker(user, conversation_id)
    return Message.objects.filter(conversation_id=conversation_id, seq__gt=read_seq, deleted=False).exclude(author=user)


def unread_count(user, conversation_id: int, *, read_seq: int | None = None) -> int:
    return unread_messages(user, conversation_id, read_seq=read_seq).count()


def mention_count(user, conversation_id: int, *, read_seq: int | None = None) -> int:
    if read_seq is None:
        read_seq = read_marker(user, conversation_id)
    return Mention.objects.filter(user=user, conversation_id=conversation_id, seq__gt=read_seq).count()


def _count(queryset) -> Subquery:
    counted = queryset.order_by().values("conversation").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def conversation_cursors(user) -> list[dict]:
    """`[{"id", "last_seq", "unread", "mentions"}]` of every conversation the user can see, by id."""
    state = ReadState.objects.filter(user=user, conversation=OuterRef("pk")).values("last_read_seq")[:1]
    unread = Message.objects.filter(conversation=OuterRef("pk"), seq__gt=OuterRef("read_seq"), deleted=False).exclude(
        author=user
    )
    mentions = Mention.objects.filter(user=user, conversation=OuterRef("pk"), seq__gt=OuterRef("read_seq"))
    rows = (
        Conversation.objects.filter(visible_to(user))
        .annotate(read_seq=Coalesce(Subquery(state, output_field=IntegerField()), Value(0)))
        .annotate(unread=_count(unread), mentions=_count(mentions))
        .order_by("pk")
        .values("pk", "last_seq", "unread", "mentions")
    )
    return [{"id": r["pk"], "last_seq": r["last_seq"], "unread": r["unread"], "mentions": r["mentions"]} for r in rows]
