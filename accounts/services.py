"""Every write to accounts."""

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import avatars, registry, tasks
from accounts.models import User, UserSession
from chatsite import ratelimit, sockets
from chatsite.errors import Invalid
from chatsite.mail import email_send, site_url

# In a session: its earlier keys (before a password change rotated it), which its open sockets still know.
SOCKET_SESSION_KEYS = "socket_session_keys"


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
def user_update_profile(*, user: User, display_name: str, time_zone: str = "") -> User:
    """Save the display name and time zone (an IANA name or empty; the form checks it is a known zone).
    A new email address goes through `email_change_request`. A new display name reaches the pages
    open on it (accounts/registry.py `on_profile_change`)."""
    renamed = user.display_name != display_name
    user.display_name = display_name
    user.time_zone = time_zone or ""
    user.save(update_fields=["display_name", "time_zone"])
    if renamed:
        profile_changed(user)
    return user


def profile_changed(user: User) -> None:
    """What others see of the user (name, username, picture) has changed in this transaction: open pages are
    told once it commits (`on_profile_change` listeners). The settings page's writes call it, and the admin's."""
    for changed in registry.profile_listeners():
        changed(user)


def user_set_avatar(*, user: User, upload) -> User:
    """Replace the user's picture (None removes it). The new one is encoded and stored first
    (accounts/avatars.py; Invalid refusals leave everything as it was); the row changes in one
    transaction that tells open pages (`on_profile_change`), and the old file is deleted only once
    that commits. A failed transaction deletes the new file instead."""
    name = avatars.save(avatars.encode(upload)) if upload is not None else ""
    try:
        with transaction.atomic():
            old = User.objects.select_for_update().filter(pk=user.pk).values_list("avatar", flat=True).first()
            if old is None:
                raise Invalid("That account no longer exists.", code="not_found")
            if not name and not old:
                return user
            user.avatar = name
            user.save(update_fields=["avatar"])
            profile_changed(user)
            if old:
                transaction.on_commit(lambda: avatars.delete(old))
    except BaseException:
        avatars.delete(name)
        raise
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
        # The picture's file goes with the row, once that is committed.
        transaction.on_commit(lambda name=user.avatar: avatars.delete(name))


def user_deactivate(*, user: User, actor: User | None = None) -> User:
    """Switch an account off: it cannot log in any more, and its open sockets close after the commit."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.record("account_deactivate", actor_id=actor.pk if actor else None, target_user_id=user.pk)
        sockets.close_user_sockets(user.pk)
    return user


def session_record(*, session_key: str, user: User, user_agent: str, address: str) -> None:
    """Create or refresh the sessions page's row for one login session (its session row must exist)."""
    if not Session.objects.filter(pk=session_key).exists():
        return  # flushed meanwhile (logged out in another tab)
    try:
        with transaction.atomic():
            UserSession.objects.update_or_create(
                session_id=session_key,
                defaults={
                    "user": user,
                    "user_agent": user_agent[:300],
                    "address": address[:45],
                    "last_seen": timezone.now(),
                },
            )
    except IntegrityError:  # the session row went away between the check and the write
        pass


def _session_socket_keys(session: Session) -> set[str]:
    """The session's key and the earlier keys its open sockets may still know it by (password change)."""
    try:
        earlier = session.get_decoded().get(SOCKET_SESSION_KEYS, [])
    except Exception:  # unreadable data: the current key is enough
        earlier = []
    return {session.session_key, *earlier}


def _end_sessions(sessions) -> int:
    """Delete login sessions and close their sockets at once. Returns how many ended."""
    ended = 0
    for session in list(sessions):
        for key in sorted(_session_socket_keys(session)):
            sockets.close_session_sockets(key)
        session.delete()
        ended += 1
    return ended


def session_end(*, user: User, session_key: str) -> None:
    """Log out one of the user's sessions (from the sessions page). NotFound-like Invalid if not theirs."""
    sessions = Session.objects.filter(pk=session_key, activity__user=user)
    if not _end_sessions(sessions):
        raise Invalid("That session has already ended.", code="not_found")


def sessions_end_others(*, user: User, keep_session_key: str | None) -> int:
    """Log out every session of the user but one (None: all of them)."""
    sessions = Session.objects.filter(activity__user=user)
    if keep_session_key:
        sessions = sessions.exclude(pk=keep_session_key)
    return _end_sessions(sessions)


def password_reset_request(*, email: str, address: str) -> None:
    """Count the request against the address asked for and the client, then queue the mail job.

    The same steps whether or not an account uses the address (the job looks it
    up), so neither the answer nor its timing tells. RateLimited when over a limit.
    """
    window = settings.PASSWORD_RESET_WINDOW
    ratelimit.check(
        scope="reset-email", ident=email.strip().lower(), limit=settings.PASSWORD_RESET_MAX_PER_EMAIL, window=window
    )
    ratelimit.check(scope="reset-address", ident=address, limit=settings.PASSWORD_RESET_MAX_PER_ADDRESS, window=window)
    tasks.password_reset_mail.enqueue(email=email.strip())


def password_reset_complete(*, user: User, password: str) -> User:
    """Set the password from a reset link: every session of the account ends and its sockets close."""
    with transaction.atomic():
        user_change_password(user=user, password=password, keep_session_key=None)
        sessions_end_others(user=user, keep_session_key=None)
    return user


# Email ownership --------------------------------------------------------------------------------

_VERIFY_SALT = "accounts.verify-email"
_CHANGE_SALT = "accounts.email-change"


def email_verification_send(*, user: User) -> None:
    """Mail a link proving the account's address is theirs (nothing when verification is off or done)."""
    if settings.EMAIL_VERIFICATION == "off" or user.email_verified:
        return
    token = signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=_VERIFY_SALT)
    link = site_url(reverse("accounts:verify_email_confirm", args=[token]))
    email_send(to=user.email, name="verify_email", context={"user": user, "link": link})


def email_verification_resend(*, user: User) -> None:
    """Another verification mail, at most EMAIL_VERIFY_MAX_PER_HOUR an hour per account."""
    ratelimit.check(scope="verify-email", ident=str(user.pk), limit=settings.EMAIL_VERIFY_MAX_PER_HOUR, window=3600)
    email_verification_send(user=user)


VERIFY_LINK_EXPIRED = "This link has expired or is not valid. Ask for a new one from your settings."
VERIFY_LINK_STALE = "This link is for an address the account no longer uses."
CHANGE_LINK_EXPIRED = "This link has expired or is not valid. Change the address again from your settings."
CHANGE_LINK_STALE = "This link was already used, or the address changed since it was sent."


def _linked_user(token: str, salt: str, address_key: str, expired: str, mismatch: str) -> tuple[User, dict]:
    """The active account an emailed link names, locked for the update, and the link's data. Invalid
    (`expired`) for a bad or old link; Invalid (`mismatch`) when the account no longer has the address
    the link was sent for (`data[address_key]`)."""
    try:
        data = signing.loads(token, salt=salt, max_age=settings.EMAIL_LINK_MAX_AGE)
    except signing.BadSignature:
        raise Invalid(expired) from None
    user = User.objects.select_for_update().filter(pk=data.get("u"), is_active=True).first()
    if user is None or user.email.lower() != data.get(address_key):
        raise Invalid(mismatch)
    return user, data


@transaction.atomic
def email_verify(*, token: str) -> User:
    """Mark the address in the link verified; Invalid when the link is bad, old, or for an address since changed."""
    user, _data = _linked_user(token, _VERIFY_SALT, "e", VERIFY_LINK_EXPIRED, VERIFY_LINK_STALE)
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


def email_change_request(*, user: User, new_email: str) -> str:
    """Start changing the address: the same answer whether or not the new address is taken.

    Free: a confirmation link goes to the new address and a notice to the old one.
    Taken by another account: that account's owner is told by mail instead, and
    nothing else happens, so the person asking learns nothing. Returns the address as stored.
    """
    new_email = User.objects.normalize_email(new_email)
    if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
        email_send(to=new_email, name="email_change_taken", context={"site_url": settings.SITE_URL})
        return new_email
    token = signing.dumps({"u": user.pk, "old": user.email.lower(), "new": new_email}, salt=_CHANGE_SALT)
    link = site_url(reverse("accounts:email_change_confirm", args=[token]))
    email_send(to=new_email, name="email_change_confirm", context={"user": user, "link": link, "new": new_email})
    email_send(to=user.email, name="email_change_notice", context={"user": user, "new": new_email})
    return new_email


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    """Apply a confirmed change (once: the link names the old address). The new address counts as verified."""
    user, data = _linked_user(token, _CHANGE_SALT, "old", CHANGE_LINK_EXPIRED, CHANGE_LINK_STALE)
    user.email = data["new"]
    user.email_verified = True
    try:
        with transaction.atomic():
            user.save(update_fields=["email", "email_verified"])
    except IntegrityError:
        raise Invalid("Another account started using that address meanwhile. Choose another.") from None
    return user


# Missed-message email (sent by messaging/missed.py) ---------------------------------------------


def missed_message_email_set(*, user: User, enabled: bool) -> User:
    user.missed_message_email = enabled
    user.save(update_fields=["missed_message_email"])
    return user


def user_set_theme(*, user: User, theme: str) -> User:
    """Light, dark or follow the system (`User.Theme`); anything else is Invalid."""
    if theme not in User.Theme.values:
        raise Invalid("Choose light, dark or follow the system.", code="invalid")
    user.theme = theme
    user.save(update_fields=["theme"])
    return user
