"""The two PostgreSQL plans of search (start from the GIN index, or walk the newest messages) give the
same results; SQLite has one plan, so there the two runs are the same run."""

import pytest

from messaging import services
from search import backends


@pytest.mark.parametrize("q", ["report", "report -draft", "rep*", '"weekly report"', "from:mia report", "from:olivia"])
def test_both_plans_find_the_same_messages_in_the_same_order(team, say, found, monkeypatch, q):
    topic = services.topic_create(actor=team.owner, group_id=team.group.pk, name="ops")
    for n in range(12):
        author, conversation = (team.owner, team.general) if n % 3 else (team.member, topic)
        say(author, conversation, f"weekly report {n}" + (" draft" if n % 4 == 0 else ""))
    say(team.member, team.general, "unrelated")
    monkeypatch.setattr(backends, "GIN_FIRST_MAX_MATCHES", 0)
    walked = found(team.member, q, limit=5) + found(team.member, q, limit=5, offset=5)
    monkeypatch.setattr(backends, "GIN_FIRST_MAX_MATCHES", 10**9)
    indexed = found(team.member, q, limit=5) + found(team.member, q, limit=5, offset=5)
    assert walked == indexed
    assert walked
