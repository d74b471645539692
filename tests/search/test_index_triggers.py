"""SQLite keeps the full-text index with triggers; a migration that rebuilds the messages table drops them,
and the next migrate puts them back (search.apps: post_migrate)."""

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import send


@pytest.mark.django_db(transaction=True)
def test_migrate_restores_dropped_triggers_and_refills_the_index(cast, found):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL keeps the index in a generated column, which a table change keeps")
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_message_ai")
    send(cast.owner, cast.general, "written while the trigger was missing")
    assert found(cast.member, "missing") == []
    call_command("migrate", verbosity=0)
    assert found(cast.member, "missing") == ["written while the trigger was missing"]
    send(cast.owner, cast.general, "written after migrate")
    assert found(cast.member, "after") == ["written after migrate"]
