"""Reads only the socket needs: its conversation ids, sync pages, co-members, account checks.

Every conversation rule comes from messaging.access (`visible_to`), as for views.
"""

import operator
from functools import reduce

from django.db.models import Q

from accounts.models import User
from groups.models import Membership
from messaging.access import visible_to
from messaging.models import Conversation, Message

# Presence is announced to at most this many co-members when a socket opens.
PRESENCE_SNAPSHOT_MAX = 1000


def conversation_ids_for_user(user) -> set[int]:
    """The ids of every conversation the user may see. One query."""
    return set(Conversation.objects.filter(visible_to(user)).values_list("pk", flat=True))


def sync_messages(user, cursors: dict[int, int], limit: int) -> tuple[list[Message], bool]:
    """Messages after each cursor, by conversation then seq, at most `limit` in all. One query.

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
    return rows[:limit], len(rows) <= limit


def co_members(user) -> list[dict]:
    """`{"id", "username", "display_name"}` of active users who share a conversation with `user`."""
    group_ids = Membership.objects.filter(user=user).values("group_id")
    directs = Conversation.objects.filter(Q(user_low=user) | Q(user_high=user), kind=Conversation.Kind.DIRECT)
    rows = (
        User.objects.filter(
            Q(memberships__group_id__in=group_ids)
            | Q(pk__in=directs.values("user_low"))
            | Q(pk__in=directs.values("user_high")),
            is_active=True,
        )
        .exclude(pk=user.pk)
        .distinct()
        .order_by("pk")
        .values("id", "username", "display_name")[:PRESENCE_SNAPSHOT_MAX]
    )
    return list(rows)


def user_is_active(user_id: int) -> bool:
    """Whether the account behind an open socket may still use it.

    A safety net for a lost `sockets.close` event on deactivation (the channel
    layer does not guarantee delivery). Sessions are not re-checked here: a
    password change or a repeated login rotates the session key of the session
    that stays, so a missing key does not mean a logout.
    """
    return User.objects.filter(pk=user_id, is_active=True).exists()
