from django.contrib.auth.backends import ModelBackend

from accounts.models import User
from accounts.selectors import user_by_login
from chatsite.numbers import row_id

# `User.objects.get(pk=…)`, written out (RawQuerySet converts the row as the ORM would).
_USER_SQL = (
    f"SELECT {', '.join(f.column for f in User._meta.concrete_fields)} FROM {User._meta.db_table} "  # noqa: S608 (names from the model)
    f"WHERE {User._meta.pk.column} = %s"
)


class UsernameOrEmailBackend(ModelBackend):
    """Log in with the username or the email address, either in any letter case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password:
            return None
        user = user_by_login(username)
        if user is None:
            # Hash anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """ModelBackend.get_user (None for a missing or inactive account), the row read by hand-written
        SQL: every request and socket connect loads its user, and the ORM compiled that lookup anew
        each time (about 0.4 ms of CPU against 0.2 through RawQuerySet; bench/page_cpu.py).
        tests/accounts/test_backends.py holds it to the ORM's."""
        user_id = row_id(user_id)  # a session names its user by id: anything else names nobody
        if user_id is None:
            return None
        user = next(iter(User._default_manager.raw(_USER_SQL, [user_id])), None)
        return user if user is not None and self.user_can_authenticate(user) else None
