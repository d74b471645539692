"""The two PostgreSQL plans of search (start from the GIN index, or walk the newest messages) give the
same results; SQLite has one plan, so there the two runs are the same run."""

import pytest

from messaging import services
from search import backends
from tests.conftest import send


@pytest.mark.parametrize("q", ["report", "report -draft", "rep*", '"weekly report"', "from:mia report", "from:olivia"])
def test_both_plans_find_the_same_messages_in_the_same_order(cast, found, monkeypatch, q):
    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="ops")
    for n in range(12):
        author, conversation = (cast.owner, cast.general) if n % 3 else (cast.member, topic)
        send(author, conversation, f"weekly report {n}" + (" draft" if n % 4 == 0 else ""))
    send(cast.member, cast.general, "unrelated")
    monkeypatch.setattr(backends, "GIN_FIRST_MAX_MATCHES", 0)
    walked = found(cast.member, q, limit=5) + found(cast.member, q, limit=5, offset=5)
    monkeypatch.setattr(backends, "GIN_FIRST_MAX_MATCHES", 10**9)
    indexed = found(cast.member, q, limit=5) + found(cast.member, q, limit=5, offset=5)
    assert walked == indexed
    assert walked
