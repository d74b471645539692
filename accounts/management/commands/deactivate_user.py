"""`manage.py deactivate_user USERNAME`: switch an account off now, everywhere.

The account can no longer log in (`is_active` off), every one of its login
sessions is deleted, and its open sockets are told to close (through the
channel layer, so sockets in every server process hear it). Its messages and
memberships stay. Running it again on a deactivated account ends any session
left over and says so.
"""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User

DB_BACKED_ENGINES = (
    "accounts.sessions",
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
)


def end_sessions(user: User) -> int | None:
    """Delete every unexpired session of `user`; None when the session engine cannot be searched.

    Sessions only store the user id inside their encoded data, so each live row is
    decoded once; rows are read in chunks to keep memory flat on a big table.
    Deleting through the engine's SessionStore also clears a cached copy (cached_db).
    """
    if settings.SESSION_ENGINE not in DB_BACKED_ENGINES:
        return None
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    wanted = str(user.pk)
    keys = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=1000)
        if str(session.get_decoded().get(SESSION_KEY)) == wanted
    ]
    for key in keys:
        store_class(session_key=key).delete()
    return len(keys)


class Command(BaseCommand):
    help = (
        "Deactivate an account: it can no longer log in, its login sessions end and its open chat sockets "
        "close at once. Messages and group memberships are kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="The account's username (any letter case).")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        was_active = user.is_active
        account_services.user_deactivate(user=user)  # also closes the user's sockets after the commit
        ended = end_sessions(user)
        sessions = (
            f"ended {ended} login session{'s' if ended != 1 else ''}"
            if ended is not None
            else f"sessions in {settings.SESSION_ENGINE} cannot be listed; they are refused from now on"
        )
        if was_active:
            self.stdout.write(
                f"Deactivated {user.username} (id {user.pk}): {sessions}; open sockets were told to close."
            )
        else:
            self.stdout.write(f"{user.username} (id {user.pk}) was already deactivated: {sessions}.")
