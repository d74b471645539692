"""The one-statement store (services._store_alone, PostgreSQL) writes what the transaction path writes.

A message with nothing stored beside it takes its seq and its row in one statement; one with mentions,
files or a missed-message notice goes through `_store_with_extras`' transaction. Both must leave the
same row and move the conversation the same way, and a refused copy (a re-sent client_id) must take no
seq, inside a caller's transaction or not.
"""

from contextlib import nullcontext

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from chatsite.errors import NotFound
from messaging import services
from messaging.models import Conversation, Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite takes no UPDATE in a WITH: it always uses the transaction"
    ),
]


@pytest.fixture(autouse=True)
def _fresh_connection():
    """Each test on a new connection: PostgreSQL prepares the statement once a connection has run it
    DB_PREPARE_THRESHOLD times, and the sends of earlier tests on a kept connection (the pool's, with
    DB_POOL) may have done so already: the count and the captured SQL below depend on it."""
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()


COLUMNS = ["conversation_id", "author_id", "body", "html", "reply_to_id", "edited_at", "deleted"]


def _row(message_id: int) -> dict:
    return Message.objects.filter(pk=message_id).values(*COLUMNS, "seq", "client_id", "created_at").get()


def test_a_plain_message_is_one_statement_and_the_same_row_as_the_transaction_path(cast):
    first, _ = services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="**hello**")
    with CaptureQueriesContext(connection) as queries:
        alone, _ = services.message_send(
            actor=cast.member, conversation_id=cast.general.pk, body="**hello** _there_", client_id="a"
        )
    assert [q["sql"].lstrip()[:12] for q in queries] == ["WITH allowed"]  # access, seq and row: one statement
    conversation = Conversation.objects.get(pk=cast.general.pk)
    assert (conversation.last_seq, conversation.last_message_at) == (2, alone.created_at)

    fields = {"body": alone.body, "html": alone.html, "reply_to": None, "client_id": "b"}
    extras = services._store_with_extras(cast.general, cast.member, fields, set(), [])

    stored_alone, stored_extras = _row(alone.pk), _row(extras.pk)
    assert {k: stored_alone[k] for k in COLUMNS} == {k: stored_extras[k] for k in COLUMNS}
    assert (first.seq, stored_alone["seq"], stored_extras["seq"]) == (1, 2, 3)
    assert stored_alone["client_id"] == "a" and stored_alone["created_at"] == alone.created_at
    assert "<strong>hello</strong>" in stored_alone["html"]
    assert Conversation.objects.get(pk=cast.general.pk).last_seq == 3
    # What the socket acks and publishes is built from the same values as a read from the database.
    assert alone.as_json == services.message_json(Message.objects.select_related("author").get(pk=alone.pk))


def test_someone_who_cannot_see_the_conversation_stores_nothing_and_takes_no_seq(cast):
    with pytest.raises(NotFound):
        services.message_send(actor=cast.outsider, conversation_id=cast.general.pk, body="let me in")
    with pytest.raises(NotFound):
        services.message_send(actor=cast.member, conversation_id=10**12, body="nowhere")
    assert not Message.objects.exists() and Conversation.objects.get(pk=cast.general.pk).last_seq == 0


def test_mentions_replies_and_direct_conversations_take_the_transaction(cast):
    first, _ = services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="first")
    direct, _ = services.direct_open(actor=cast.member, username=cast.other_member.username)
    sends = [
        (cast.general.pk, f"hi @{cast.other_member.username}", None),
        (cast.general.pk, "a reply", first.seq),
        (direct.pk, "hi", None),
    ]
    for conversation_id, body, reply_to in sends:
        with CaptureQueriesContext(connection) as queries:
            message, _ = services.message_send(
                actor=cast.member, conversation_id=conversation_id, body=body, reply_to=reply_to
            )
        statements = [q["sql"] for q in queries]
        assert "BEGIN" in statements and "COMMIT" in statements, statements
        assert Message.objects.get(pk=message.pk).body == body
    # The direct conversation's gate was the statement's: not asked a second time.
    assert sum(1 for q in queries if "kind = 'direct'" in q["sql"]) == 1


@pytest.mark.parametrize("in_transaction", [False, True])
def test_a_resent_client_id_answers_the_original_and_takes_no_seq(cast, in_transaction):
    def send(body):
        return services.message_send(actor=cast.member, conversation_id=cast.general.pk, body=body, client_id="same")

    original, created = send("once")
    with transaction.atomic() if in_transaction else nullcontext():
        again, created_again = send("twice")
        later, _ = services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="next")
    assert created and not created_again and again.pk == original.pk and again.body == "once"
    assert later.seq == original.seq + 1
    assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == ["once", "next"]


def test_the_statement_is_prepared_on_its_connection_after_a_few_runs(cast, settings):
    """PostgreSQL plans the fixed statement once per connection (DB_PREPARE_THRESHOLD), not per message."""
    threshold = connection.settings_dict["OPTIONS"].get("prepare_threshold")
    assert threshold, "DB_PREPARE_THRESHOLD is on by default"

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%%WITH allowed%%'")
            return cursor.fetchone()[0]

    before = prepared()
    for k in range(threshold + 1):
        message, _ = services.message_send(actor=cast.member, conversation_id=cast.general.pk, body=f"n{k}")
    assert prepared() == before + 1
    assert message.seq == threshold + 1 and message.conversation == Conversation.objects.get(pk=cast.general.pk)
    assert message.as_json == services.message_json(Message.objects.select_related("author").get(pk=message.pk))
