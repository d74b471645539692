"""Running the hand-written queries of the hot paths, with rows converted as the ORM would.

The socket's gate (messaging.access) and the conversation page's reads
(messaging.selectors) are written out as SQL because the ORM compiled them anew
on every frame and page view (BENCHMARKS.md). Their rows come back raw from the
database driver; `fetch` applies the same value converters the ORM applies (none
on PostgreSQL; text to datetime and integer to bool on SQLite), so callers get
the values a queryset would have given them.
"""

from functools import cache

from django.db import connection


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


def fetch(sql: str, params: list, fields: tuple) -> list:
    """The rows of a hand-written query, converted."""
    with connection.cursor() as cursor:
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
