"""Every write to accounts."""

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
from accounts.signals import password_changed


@transaction.atomic
def user_create(*, username: str, email: str, password: str, display_name: str = "") -> User:
    user = User(username=username, email=User.objects.normalize_email(email), display_name=display_name)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, email: str) -> User:
    user.display_name = display_name
    user.email = User.objects.normalize_email(email)
    user.save(update_fields=["display_name", "email"])
    return user


def user_change_password(*, request: HttpRequest, user: User, password: str) -> User:
    """Set a new password; this session stays logged in, every other session ends."""
    user.set_password(password)
    user.save(update_fields=["password"])
    update_session_auth_hash(request, user)
    password_changed.send(sender=User, user=user, keep_session_key=request.session.session_key)
    return user
