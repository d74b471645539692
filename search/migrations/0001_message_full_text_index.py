"""The full-text index of messages: a generated tsvector under GIN on PostgreSQL, an FTS5
table kept by triggers on SQLite (search/backends.py holds the statements)."""

from django.db import migrations

from search import backends


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in backends.PG_CREATE:
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            backends.sqlite_create(cursor)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for statement in backends.PG_DROP:
            schema_editor.execute(statement)
    elif vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            backends.sqlite_drop(cursor)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0002_direct_users_set_null")]

    operations = [migrations.RunPython(create_index, drop_index)]
