"""The conversation page's reads as prepared statements on PostgreSQL (messaging/rawsql.py,
`fetch(..., prepared=True)`): once a connection has run the sidebar's query DB_PREPARE_THRESHOLD times
psycopg prepares it, and after a few more pages the server keeps a generic plan and plans it no more;
the page and its query count stay the same."""

import pytest
from django.db import connection

from messaging import selectors
from tests.conftest import send

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]


def prepared_sidebar() -> list[tuple[int, int]]:
    """(generic plans, custom plans) of the sidebar's statements prepared on this connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        rows = cursor.fetchall()
    # The server shows the text with $1, $2… where the query has %s.
    head = selectors._SIDEBAR_SQL.split("%s", 1)[0]
    return [(generic, custom) for statement, generic, custom in rows if statement.startswith(head)]


def test_the_sidebar_query_is_planned_a_few_times_then_no_more(login, cast, django_assert_num_queries):
    send(cast.member, cast.general, "prepared")
    client = login(cast.member)
    assert client.get(f"/chats/{cast.general.pk}/").status_code == 200  # read: later pages move no marker
    for _ in range(15):
        with django_assert_num_queries(6):
            page = client.get(f"/chats/{cast.general.pk}/")
        assert page.status_code == 200 and "prepared" in page.content.decode()
    [(generic, custom)] = prepared_sidebar()
    assert generic >= 3 and custom <= 6
