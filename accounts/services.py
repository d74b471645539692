"""Every write to accounts."""

from django.db import IntegrityError, transaction

import audit
from accounts import registry
from accounts.models import User
from chatsite import sockets
from chatsite.errors import Invalid


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
    for created in registry.creators():  # what the apps above do for a new account (accounts/registry.py)
        created(user)
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
        sockets.close_user_sockets(user.pk, except_session=keep_session_key)
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
        sockets.close_user_sockets(user.pk)
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
        for delete_part in registry.deleters():  # what the apps above hold (accounts/registry.py)
            delete_part(user, delete_messages=delete_messages)
        sockets.close_user_sockets(user.pk)
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
        sockets.close_user_sockets(user.pk)
    return user
