"""Running the hand-written queries of the hot paths, with rows converted as the ORM would.

The socket's gate (messaging.access) and the conversation page's reads
(messaging.selectors) are written out as SQL because the ORM compiled them anew
on every frame and page view (BENCHMARKS.md). Their rows come back raw from the
database driver; `fetch` applies the same value converters the ORM applies (none
on PostgreSQL; text to datetime and integer to bool on SQLite), so callers get
the values a queryset would have given them, and `instances` makes the model
instances a queryset would have made of them.
"""

from functools import cache

from django.db import connection
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


@cache
def _converters(fields: tuple) -> tuple:
    """`(index, converters, column)` for each column the database returns raw. `fields` holds a
    model field per column of a row, or None for a computed column."""
    found = []
    for index, field in enumerate(fields):
        if field is None:
            continue
        column = field.get_col(field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((index, converters, column))
    return tuple(found)


def convert(row, fields: tuple) -> list | tuple:
    """One raw row with each column converted as the ORM would."""
    converters = _converters(fields)
    if not converters:
        return row
    values = list(row)
    for index, functions, column in converters:
        for function in functions:
            values[index] = function(values[index], column, connection)
    return values


def fetch(sql: str, params: list, fields: tuple, *, prepared: bool = False) -> list:
    """The rows of a hand-written query, converted. `prepared`: on PostgreSQL through `prepared_cursor`,
    for fixed SQL whose parameters are all numbers (sent apart from the text, typed by their values)."""
    cursor = prepared_cursor() if prepared and connection.vendor == "postgresql" else connection.cursor()
    with cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not _converters(fields):
        return rows
    return [convert(row, fields) for row in rows]


def fetch_one(sql: str, params: list, fields: tuple):
    """The first row of a hand-written query, converted, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else convert(row, fields)


def prepared_cursor():
    """A cursor (Django's wrapper) that binds parameters on the server, for the few fixed statements run
    on every socket frame: psycopg prepares a statement once a connection has run it `prepare_threshold`
    times (DB_PREPARE_THRESHOLD), and PostgreSQL then skips parsing and planning it. The ORM's cursors
    bind on the client (Django's default): not every query it writes can be prepared. PostgreSQL only."""
    server_binding_cursor, timestamptz_loader, register_tzloader = _postgresql()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = server_binding_cursor(connection.connection)
    # As Django's own cursors (DatabaseWrapper.create_cursor): timestamps in the connection's time zone.
    if connection.timezone != timestamptz_loader(connection.connection).timezone:
        register_tzloader(connection.timezone, raw)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


@cache
def _postgresql():
    """What `prepared_cursor` takes from Django's PostgreSQL backend (imported on first use only)."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    def timestamptz_loader(raw_connection):
        return raw_connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)

    return ServerBindingCursor, timestamptz_loader, register_tzloader


def _plain(model) -> bool:
    """Whether `model.from_db` may be skipped: Django's own, and no pre_init/post_init receiver."""
    return (
        model.from_db.__func__ is Model.from_db.__func__
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
    )


def instances(model, alias: str, attnames: list[str]):
    """`lambda values: model.from_db(alias, attnames, values)`, without Model.__init__.

    The same instance, with the fields of `attnames` set and the others deferred (read from the
    database when first used), made by filling its `__dict__` instead of through `__init__`'s
    generic arguments, defaults and setattr calls: a conversation page builds about a hundred
    (its messages, sidebar rows and members), and `__init__` cost two thirds of their CPU
    (bench/page_cpu.py). A model with its own `from_db`, or with pre_init/post_init receivers
    (which `__init__` would call), goes through `from_db`. tests/messaging/test_selectors.py
    holds the two equal."""
    if not _plain(model):
        return lambda values: model.from_db(alias, attnames, values)
    names = tuple(attnames)
    new = model.__new__

    def build(values):
        instance = new(model)
        state = ModelState()
        state.adding = False
        state.db = alias
        instance.__dict__.update(zip(names, values, strict=True))
        instance._state = state
        return instance

    return build
