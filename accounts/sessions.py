"""Sessions in the database, as Django's `db` engine keeps them (the same table, rows, expiry and
writes), with the session read by hand-written SQL: every request reads its session, and the ORM
compiled `Session.objects.get(session_key=…, expire_date__gt=now)` anew each time (0.40 ms of CPU
against 0.11 with the row decoded; bench/page_cpu.py). SESSION_ENGINE names this module.
tests/accounts/test_sessions_engine.py holds it to Django's engine.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.db import connections, router
from django.utils import timezone

_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """The unexpired session row (only its data read: `load` decodes nothing else), or None, as
        Django's engine does; a key with characters no session key has (a NUL, say) names nothing."""
        key = self.session_key
        if not key or not _KEY_CHARS.issuperset(key):
            self._session_key = None
            return None
        model = self.model
        alias = router.db_for_read(model)
        connection = connections[alias]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {model._meta.db_table} "  # noqa: S608 (the table name comes from the model)
                "WHERE session_key = %s AND expire_date > %s",
                [key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model.from_db(alias, ["session_key", "session_data"], (key, row[0]))
