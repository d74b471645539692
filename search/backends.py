"""The full-text index of messages on each database, and the conditions that query it.

PostgreSQL: a `search_vector` tsvector column generated from the body (empty for a
deleted message) under a GIN index, in the `chatsite_search` text search
configuration: punctuation read as spaces, unaccent, then the English Snowball
stemmer without a stop-word list (so that "the" or "who" can be searched, as on SQLite).
SQLite: a contentless FTS5 table `search_message_fts` (porter stemmer, unicode61
without diacritics) whose rowid is the message id, kept in step by triggers.

Both are created by search/migrations (only on their own database); the query
structure of search/query.py is turned into each one's syntax here, from words
made only of letters and digits, and always passed as a parameter.
"""

import json

from django.db import connection, connections

from messaging.models import Message
from search.query import SearchQuery

MESSAGE_TABLE = Message._meta.db_table
PG_CONFIG = "chatsite_search"
FTS_TABLE = "search_message_fts"

# --- PostgreSQL -----------------------------------------------------------------------------------

PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH DICTIONARY chatsite_english_stem (TEMPLATE = snowball, LANGUAGE = english)",
    f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = english)",
    f"""ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG}
        ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
        WITH unaccent, chatsite_english_stem""",
    f"""ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG}
        ALTER MAPPING FOR numword, numhword, hword_numpart WITH unaccent, simple""",
    # Punctuation becomes a space first, so that words split as SQLite's unicode61 and the
    # query parser split them: "example" is found in https://example.com/notes and foo_bar.
    f"""ALTER TABLE {MESSAGE_TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS
        (to_tsvector('{PG_CONFIG}'::regconfig, regexp_replace(CASE WHEN deleted THEN '' ELSE body END,
        '[[:punct:]]+', ' ', 'g'))) STORED""",
    f"CREATE INDEX search_message_vector ON {MESSAGE_TABLE} USING gin (search_vector)",
]
PG_DROP = [
    "DROP INDEX IF EXISTS search_message_vector",
    f"ALTER TABLE {MESSAGE_TABLE} DROP COLUMN IF EXISTS search_vector",
    f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS chatsite_english_stem",
]

# --- SQLite ---------------------------------------------------------------------------------------

_FTS_INSERT = f"INSERT INTO {FTS_TABLE}(rowid, body) SELECT new.id, new.body WHERE NOT new.deleted;"
_FTS_DELETE = (
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, body) SELECT 'delete', old.id, old.body WHERE NOT old.deleted;"
)
SQLITE_TRIGGERS = {
    "search_message_ai": f"AFTER INSERT ON {MESSAGE_TABLE} BEGIN {_FTS_INSERT} END",
    "search_message_ad": f"AFTER DELETE ON {MESSAGE_TABLE} BEGIN {_FTS_DELETE} END",
    "search_message_au": f"AFTER UPDATE OF body, deleted ON {MESSAGE_TABLE} BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
}
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "body, content='', tokenize='porter unicode61 remove_diacritics 2')"
)


def sqlite_create(cursor) -> None:
    """The FTS table, filled from the stored messages, and its triggers (again after a table rebuild)."""
    cursor.execute(SQLITE_TABLE)
    cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")  # noqa: S608 (constant names)
    cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, body) SELECT id, body FROM {MESSAGE_TABLE} WHERE NOT deleted")  # noqa: S608
    for name, body in SQLITE_TRIGGERS.items():
        cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")


def sqlite_drop(cursor) -> None:
    for name in SQLITE_TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def ensure_index_after_migrate(sender, using="default", **kwargs) -> None:
    """SQLite: re-create missing triggers (a migration that rebuilt the messages table drops them)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE (type = 'trigger' AND tbl_name = %s) OR name = %s",
            [MESSAGE_TABLE, FTS_TABLE],
        )
        present = {row[0] for row in cursor.fetchall()}
        if FTS_TABLE not in present:
            return  # not migrated this far (or migrated back): the migration creates it
        if not set(SQLITE_TRIGGERS) <= present:
            sqlite_create(cursor)


# --- Queries --------------------------------------------------------------------------------------


def _pg_phrase(words: tuple[str, ...]) -> str:
    return "(" + " <-> ".join(f"'{w}'" for w in words) + ")"


def _pg_tsquery(query: SearchQuery) -> str:
    """`'word' & 'pref':* & ('a' <-> 'b') & !'x'`: each word stemmed by to_tsquery itself."""
    parts = [f"'{w}'" for w in query.words]
    parts += [f"'{p}':*" for p in query.prefixes]
    parts += [_pg_phrase(p) for p in query.phrases]
    parts += [f"!{_pg_phrase(e)}" for e in query.excluded]
    return " & ".join(parts)


def _fts_phrase(words: tuple[str, ...]) -> str:
    return '"' + " ".join(words) + '"'


def _fts_positive(query: SearchQuery) -> str:
    parts = [_fts_phrase((w,)) for w in query.words]
    parts += [_fts_phrase((p,)) + "*" for p in query.prefixes]
    parts += [_fts_phrase(p) for p in query.phrases]
    return " AND ".join(parts)


def _fts_excluded(query: SearchQuery) -> str:
    return " OR ".join(_fts_phrase(e) for e in query.excluded)


_M = f'"{MESSAGE_TABLE}"'  # the ORM's name for the message table in the queries of search.selectors


def text_conditions(vendor: str, query: SearchQuery) -> list[tuple[str, list]]:
    """SQL conditions (with parameters) on the message table for the words, phrases and exclusions."""
    if not (query.has_text or query.excluded):
        return []
    if vendor == "postgresql":
        return [(f"{_M}.search_vector @@ to_tsquery('{PG_CONFIG}', %s)", [_pg_tsquery(query)])]
    conditions = []
    fts = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608 (values are parameters)
    if query.has_text:
        conditions.append((f"{_M}.id IN ({fts})", [_fts_positive(query)]))
    if query.excluded:
        conditions.append((f"{_M}.id NOT IN ({fts})", [_fts_excluded(query)]))
    return conditions


def rank_expression(vendor: str, query: SearchQuery) -> tuple[str, list, bool] | None:
    """`(sql, params, higher_is_better)` scoring a message against the words, or None without words."""
    if not query.has_text:
        return None
    if vendor == "postgresql":
        return (f"ts_rank({_M}.search_vector, to_tsquery('{PG_CONFIG}', %s))", [_pg_tsquery(query)], True)
    sql = f"(SELECT bm25({FTS_TABLE}) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid = {_M}.id)"  # noqa: S608
    return (sql, [_fts_positive(query)], False)  # bm25: lower is better


# PostgreSQL: below this many messages matching the words (in every conversation, as the planner
# estimates them), the search starts from the GIN index and filters and sorts those few; above it,
# the planner walks the newest messages of the user's conversations and stops at a page. The
# planner alone picked the second plan too often for rare words, and ANDed the GIN bitmap with a
# bitmap of every visible message (50,000 rows) for the others (BENCHMARKS.md, "search").
GIN_FIRST_MAX_MATCHES = 5_000


def pg_few_matches(query: SearchQuery) -> bool:
    """Whether the planner expects few messages in all to match the words (one EXPLAIN, no execution)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {MESSAGE_TABLE} WHERE search_vector @@ to_tsquery('{PG_CONFIG}', %s)",  # noqa: S608
            [_pg_tsquery(query)],
        )
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Plan"]["Plan Rows"] < GIN_FIRST_MAX_MATCHES


# The visible conversation ids as a parameter: a bigint array, the column's type. The driver sends a
# list of small ids as smallint[] (int2[]), and `bigint = ANY(smallint[])` is tested element by element
# on every row; with both sides bigint PostgreSQL hashes the array once (the prefix walk: 19,400 rows
# passed, 9-10 ms -> 3.5 ms; BENCHMARKS.md, "search").
PG_IDS = "%s::bigint[]"

# The visible conversations as a filter on the rows the GIN index found: `+ 0` keeps the planner
# from reading the conversation index as well (the bitmap of every message the user can see).
PG_CONVERSATION_FILTER = f"({_M}.conversation_id + 0) = ANY({PG_IDS})"


def pg_walk_condition(query: SearchQuery, visible: list[int]) -> tuple[str, list]:
    """Words and visibility as one condition for the walk over the newest messages: the cheap
    conversation test runs first and the tsvector is read only for visible rows (the planner,
    left to itself, matched the words of every row it passed, visible or not)."""
    sql = (
        f"CASE WHEN {_M}.conversation_id = ANY({PG_IDS})"
        f" THEN {_M}.search_vector @@ to_tsquery('{PG_CONFIG}', %s) ELSE false END"
    )
    return sql, [visible, _pg_tsquery(query)]
