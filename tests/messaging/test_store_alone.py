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

from messaging import services
from messaging.models import Conversation, Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite takes no UPDATE in a WITH: it always uses the transaction"
    ),
]

COLUMNS = ["conversation_id", "author_id", "body", "html", "reply_to_id", "edited_at", "deleted"]


def _row(message_id: int) -> dict:
    return Message.objects.filter(pk=message_id).values(*COLUMNS, "seq", "client_id", "created_at").get()


def test_a_plain_message_is_one_statement_and_the_same_row_as_the_transaction_path(cast):
    first, _ = services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="**hello**")
    with CaptureQueriesContext(connection) as queries:
        alone, _ = services.message_send(
            actor=cast.member, conversation_id=cast.general.pk, body="**hello** _there_", client_id="a", reply_to=1
        )
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(writes) == 1 and writes[0].lstrip().startswith("WITH taken AS"), writes

    conversation = Conversation.objects.get(pk=cast.general.pk)
    assert (conversation.last_seq, conversation.last_message_at) == (2, alone.created_at)

    fields = {"body": alone.body, "html": alone.html, "reply_to": first, "client_id": "b"}
    extras = services._store_with_extras(cast.general, cast.member, fields, set(), [])

    stored_alone, stored_extras = _row(alone.pk), _row(extras.pk)
    assert {k: stored_alone[k] for k in COLUMNS} == {k: stored_extras[k] for k in COLUMNS}
    assert (stored_alone["seq"], stored_extras["seq"]) == (2, 3)
    assert stored_alone["client_id"] == "a" and stored_alone["created_at"] == alone.created_at
    assert stored_alone["reply_to_id"] == first.pk and "<strong>hello</strong>" in stored_alone["html"]
    assert Conversation.objects.get(pk=cast.general.pk).last_seq == 3
    # What the socket acks and publishes is built from the same values as a read from the database.
    assert alone.as_json == services.message_json(Message.objects.select_related("author").get(pk=alone.pk))


def test_messages_with_mentions_or_to_a_direct_conversation_take_the_transaction(cast):
    direct, _ = services.direct_open(actor=cast.member, username=cast.other_member.username)
    for conversation_id, body in [(cast.general.pk, f"hi @{cast.other_member.username}"), (direct.pk, "hi")]:
        with CaptureQueriesContext(connection) as queries:
            services.message_send(actor=cast.member, conversation_id=conversation_id, body=body)
        assert not any("WITH taken AS" in q["sql"] for q in queries)


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
