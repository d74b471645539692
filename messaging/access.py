"""Every permission rule about conversations and messages, in one place.

`access_conversation` is the single gate: views and consumers call it on every
request and frame. It gives the same NotFound for "no such conversation" and
"not yours", so ids of other people's conversations leak nothing.
"""

from django.db.models import OuterRef, Q, Subquery

from chatsite.errors import Forbidden, NotFound
from groups.access import can_moderate
from groups.models import Membership
from messaging.models import Conversation, Message


def visible_to(user) -> Q:
    """The conversations a user may see: their groups' conversations and their directs."""
    group_ids = Membership.objects.filter(user=user).values("group_id")
    return (
        Q(kind=Conversation.Kind.GROUP, group_id__in=group_ids)
        | Q(kind=Conversation.Kind.DIRECT, user_low=user)
        | Q(kind=Conversation.Kind.DIRECT, user_high=user)
    )


def access_conversation(user, conversation_id) -> tuple[Conversation, Membership | None]:
    """The conversation and, for a group's conversation, the user's membership. One query."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound()
    try:
        conversation_id = int(conversation_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    role = Membership.objects.filter(group_id=OuterRef("group_id"), user=user).values("role")[:1]
    conversation = (
        Conversation.objects.filter(visible_to(user), pk=conversation_id)
        .select_related("group")
        .annotate(member_role=Subquery(role))
        .first()
    )
    if conversation is None:
        raise NotFound()
    membership = None
    if conversation.member_role:
        membership = Membership(group=conversation.group, user=user, role=conversation.member_role)
    return conversation, membership


def check_can_edit(user, message: Message) -> None:
    """Only the author edits, and a deleted message stays deleted."""
    if message.author_id != user.pk:
        raise Forbidden("You can only edit your own messages.")
    if message.deleted:
        raise Forbidden("That message was deleted.")


def check_can_delete(user, message: Message, membership: Membership | None) -> None:
    """The author deletes their own; a group's owner and admins delete any (moderation)."""
    if message.author_id == user.pk or can_moderate(membership):
        return
    raise Forbidden("You can only delete your own messages.")
