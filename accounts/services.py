"""Every write to accounts."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q

import audit
from accounts.models import User
from chatsite.errors import Invalid
from groups.models import Membership
from groups.services import group_owner_leave, groups_join_defaults
from messaging import events, protocol
from messaging.models import Conversation, Message
from messaging.serializers import message_json


@transaction.atomic
def user_create(*, username: str, email: str, password: str, display_name: str = "") -> User:
    """A new account, put in the operator's `DEFAULT_GROUPS`. Invalid when the username or email was taken a
    moment ago by a concurrent sign-up."""
    user = User(username=username, email=User.objects.normalize_email(email), display_name=display_name)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Invalid("That username or email address was just taken. Choose another.", code="duplicate") from None
    groups_join_defaults(user=user)
    return user


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, email: str, time_zone: str = "") -> User:
    """Name, email and time zone (an IANA name or empty; the form checks it is a known zone)."""
    user.display_name = display_name
    user.email = User.objects.normalize_email(email)
    user.time_zone = time_zone or ""
    try:
        with transaction.atomic():
            user.save(update_fields=["display_name", "email", "time_zone"])
    except IntegrityError:
        raise Invalid("Another account uses that email address.", code="duplicate") from None
    return user


def user_change_password(*, user: User, password: str, keep_session_key: str | None) -> User:
    """Set a new password and end the sockets of every other session.

    Other sessions' HTTP requests are refused from now on because Django checks
    the password hash stored in each session; the caller refreshes the hash in
    the session that stays (`update_session_auth_hash`). `keep_session_key` is
    that session's key as its open sockets know it (before the key rotates).
    """
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record("password_change", actor_id=user.pk, target_user_id=user.pk)
        events.close_user_sockets(user.pk, except_session=keep_session_key)
    return user


def user_set_password_by_staff(*, user: User, password: str | None, actor: User | None = None) -> User:
    """An administrator sets a user's password (None: no usable password, log-in by password is off).

    Every session of the user stops working (Django checks the password hash each
    session holds), and its open sockets are closed at once (4001), as after the
    user's own password change on another device.
    """
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(
            "password_change",
            actor_id=actor.pk if actor else None,
            target_user_id=user.pk,
            detail={"by_staff": True, "usable": password is not None},
        )
        events.close_user_sockets(user.pk)
    return user


def user_delete(*, user: User, delete_messages: bool = False, actor: User | None = None) -> None:
    """Remove an account, keeping everyone else's history whole. One transaction.

    - Messages stay in their conversations, shown as from "deleted user"
      (`Message.author` becomes null), or with `delete_messages` are deleted
      the way a single message is (text gone, seq kept).
    - Groups the user owns pass to the longest-standing admin, else the
      longest-standing member; a group with no other member is deleted.
    - Direct conversations stay for the other person; one whose other side
      is already gone is deleted.
    - The user's sockets are told, and closed, after the commit.

    The caller checks that it is really the user asking (their password), or
    passes the staff member deleting the account as `actor`.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        owned = Membership.objects.filter(user=user, role=Membership.Role.OWNER).values_list("group_id", flat=True)
        for group_id in list(owned):
            group_owner_leave(actor=user, group_id=group_id)

        directs = Conversation.objects.filter(Q(user_low=user) | Q(user_high=user), kind=Conversation.Kind.DIRECT)
        # Nobody is left to read a direct conversation whose other side was deleted before.
        directs.filter(Q(user_low__isnull=True) | Q(user_high__isnull=True)).delete()

        if delete_messages:
            written = Message.objects.filter(author=user, deleted=False)
            # Readers with a conversation open see the text go, as for any deleted message. Only
            # the newest page of each conversation can be on screen; older ones load from the
            # database already deleted (one event per message of a long history took seconds).
            on_screen = written.filter(seq__gt=F("conversation__last_seq") - settings.HISTORY_PAGE_SIZE)
            for message in on_screen.iterator(chunk_size=500):
                message.author, message.deleted, message.body = None, True, ""
                events.to_conversation(
                    message.conversation_id, {"type": protocol.MESSAGE_DELETED, "message": message_json(message)}
                )
            written.update(deleted=True, body="")

        conversation_ids = list(
            Conversation.objects.filter(Q(group__memberships__user=user) | Q(user_low=user) | Q(user_high=user))
            .values_list("pk", flat=True)
            .distinct()
        )
        if conversation_ids:
            events.conversations_removed([user.pk], conversation_ids)
        events.close_user_sockets(user.pk)
        audit.record(
            "account_delete",
            actor_id=(actor or user).pk,
            target_user_id=user.pk,
            detail={"username": user.username, "delete_messages": delete_messages},
        )
        user.delete()


def user_deactivate(*, user: User, actor: User | None = None) -> User:
    """Switch an account off: it cannot log in any more, and its open sockets close after the commit."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.record("account_deactivate", actor_id=actor.pk if actor else None, target_user_id=user.pk)
        events.close_user_sockets(user.pk)
    return user
