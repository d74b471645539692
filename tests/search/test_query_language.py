"""Every operator of the query language, through the JSON endpoint, on both databases."""

from datetime import UTC, datetime

import pytest

from messaging.models import Message
from tests.conftest import send


@pytest.fixture
def corpus(cast):
    o, m, g = cast.owner, cast.member, cast.general
    return {
        "review": send(o, g, "Please review the deploy plan"),
        "reviews": send(m, g, "Two reviews are pending on the release"),
        "deploying": send(m, g, "Deploying the release tonight"),
        "plan": send(o, g, "The plan for the offsite is ready"),
        "cafe": send(m, g, "Meet at the Café Noir at noon"),
        "link": send(o, g, "Notes are on https://example.com/notes"),
        "colon": send(m, g, "ratio foo:bar is odd"),
    }


def test_every_word_must_match(cast, corpus, found):
    assert found(cast.member, "review plan") == ["Please review the deploy plan"]
    assert found(cast.member, "plan") == ["The plan for the offsite is ready", "Please review the deploy plan"]
    assert found(cast.member, "plan nothinglikethis") == []


def test_words_are_stemmed(cast, corpus, found):
    assert set(found(cast.member, "reviews")) == {
        "Please review the deploy plan",
        "Two reviews are pending on the release",
    }
    assert found(cast.member, "deployed tonight") == ["Deploying the release tonight"]


def test_case_and_accents_are_ignored(cast, corpus, found):
    assert found(cast.member, "CAFE") == ["Meet at the Café Noir at noon"]
    assert found(cast.member, "café noir") == ["Meet at the Café Noir at noon"]
    assert found(cast.member, "CAFÉ") == ["Meet at the Café Noir at noon"]


def test_exact_phrase(cast, corpus, found):
    send(cast.owner, cast.general, "plan the deploy later")
    assert found(cast.member, '"deploy plan"') == ["Please review the deploy plan"]
    assert found(cast.member, '"plan deploy"') == []
    assert found(cast.member, '"the release"') == [
        "Deploying the release tonight",
        "Two reviews are pending on the release",
    ]


def test_excluded_word_and_phrase(cast, corpus, found):
    assert found(cast.member, "release -tonight") == ["Two reviews are pending on the release"]
    assert found(cast.member, 'plan -"deploy plan"') == ["The plan for the offsite is ready"]


def test_prefix(cast, corpus, found):
    assert set(found(cast.member, "depl*")) == {"Deploying the release tonight", "Please review the deploy plan"}
    assert found(cast.member, "offs*") == ["The plan for the offsite is ready"]
    assert found(cast.member, "zzq*") == []


def test_from_a_user_any_letter_case(cast, corpus, found):
    assert found(cast.member, "release from:MIA") == [
        "Deploying the release tonight",
        "Two reviews are pending on the release",
    ]
    assert found(cast.member, "release from:@olivia") == []
    assert found(cast.member, "release from:nobody") == []
    # from: alone lists that user's messages
    assert len(found(cast.member, "from:olivia")) == 3


def test_before_and_after_whole_days(cast, corpus, found):
    Message.objects.filter(pk=corpus["plan"].pk).update(created_at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    Message.objects.filter(pk=corpus["review"].pk).update(created_at=datetime(2026, 1, 11, 9, tzinfo=UTC))
    assert found(cast.member, "plan before:2026-01-11") == ["The plan for the offsite is ready"]
    assert found(cast.member, "plan before:2026-01-10") == []
    assert found(cast.member, "plan after:2026-01-10") == ["Please review the deploy plan"]
    assert found(cast.member, "plan after:2026-01-11") == []
    assert found(cast.member, "plan after:2026-01-09 before:2026-01-12") == [
        "Please review the deploy plan",
        "The plan for the offsite is ready",
    ]


def test_has_link(cast, corpus, found):
    send(cast.owner, cast.general, "see www.example.org for the notes")
    assert found(cast.member, "notes has:link") == [
        "see www.example.org for the notes",
        "Notes are on https://example.com/notes",
    ]
    assert found(cast.member, "has:link -example") == []


def test_unknown_operators_are_words(cast, corpus, found):
    assert found(cast.member, "foo:bar") == ["ratio foo:bar is odd"]
    assert found(cast.member, "has:pictures") == []  # "has" and "pictures": no message has both


def test_punctuation_and_quotes_never_break_the_query(cast, corpus, found, search):
    for q in ['"', "'", "-", "*", "(", "review' OR 1=1 --", '" AND NOT "', "NEAR(a b)", "plan:*", "!plan", "&|<->"]:
        status, data = search(cast.member, q)
        assert status == 200, (q, data)
    assert found(cast.member, "review' OR 1=1 --") == []
    assert found(cast.member, "(plan)") == found(cast.member, "plan")


def test_relevance_puts_the_best_match_first(cast, found):
    send(cast.owner, cast.general, "budget budget budget review of the budget")
    send(cast.owner, cast.general, "the budget, and then lunch with the whole team at the new place downtown")
    send(cast.owner, cast.general, "lunch")
    best, newest = (
        "budget budget budget review of the budget",
        "the budget, and then lunch with the whole team at the new place downtown",
    )
    assert found(cast.member, "budget", sort="relevance") == [best, newest]
    assert found(cast.member, "budget") == [newest, best]
    assert found(cast.member, "budget", sort="newest") == [newest, best]
    # Without words to rank by, relevance is newest first.
    assert found(cast.member, "from:olivia", sort="relevance") == ["lunch", newest, best]
