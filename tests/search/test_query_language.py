"""Every operator of the query language, through the JSON endpoint, on both databases."""

from datetime import UTC, datetime

import pytest

from messaging.models import Message


@pytest.fixture
def corpus(team, say):
    o, m, g = team.owner, team.member, team.general
    return {
        "review": say(o, g, "Please review the deploy plan"),
        "reviews": say(m, g, "Two reviews are pending on the release"),
        "deploying": say(m, g, "Deploying the release tonight"),
        "plan": say(o, g, "The plan for the offsite is ready"),
        "cafe": say(m, g, "Meet at the Café Noir at noon"),
        "link": say(o, g, "Notes are on https://example.com/notes"),
        "colon": say(m, g, "ratio foo:bar is odd"),
    }


def test_every_word_must_match(team, corpus, found):
    assert found(team.member, "review plan") == ["Please review the deploy plan"]
    assert found(team.member, "plan") == ["The plan for the offsite is ready", "Please review the deploy plan"]
    assert found(team.member, "plan nothinglikethis") == []


def test_words_are_stemmed(team, corpus, found):
    assert set(found(team.member, "reviews")) == {
        "Please review the deploy plan",
        "Two reviews are pending on the release",
    }
    assert found(team.member, "deployed tonight") == ["Deploying the release tonight"]


def test_case_and_accents_are_ignored(team, corpus, found):
    assert found(team.member, "CAFE") == ["Meet at the Café Noir at noon"]
    assert found(team.member, "café noir") == ["Meet at the Café Noir at noon"]
    assert found(team.member, "CAFÉ") == ["Meet at the Café Noir at noon"]


def test_exact_phrase(team, corpus, found, say):
    say(team.owner, team.general, "plan the deploy later")
    assert found(team.member, '"deploy plan"') == ["Please review the deploy plan"]
    assert found(team.member, '"plan deploy"') == []
    assert found(team.member, '"the release"') == [
        "Deploying the release tonight",
        "Two reviews are pending on the release",
    ]


def test_excluded_word_and_phrase(team, corpus, found):
    assert found(team.member, "release -tonight") == ["Two reviews are pending on the release"]
    assert found(team.member, 'plan -"deploy plan"') == ["The plan for the offsite is ready"]


def test_prefix(team, corpus, found):
    assert set(found(team.member, "depl*")) == {"Deploying the release tonight", "Please review the deploy plan"}
    assert found(team.member, "offs*") == ["The plan for the offsite is ready"]
    assert found(team.member, "zzq*") == []


def test_from_a_user_any_letter_case(team, corpus, found):
    assert found(team.member, "release from:MIA") == [
        "Deploying the release tonight",
        "Two reviews are pending on the release",
    ]
    assert found(team.member, "release from:@olivia") == []
    assert found(team.member, "release from:nobody") == []
    # from: alone lists that user's messages
    assert len(found(team.member, "from:olivia")) == 3


def test_before_and_after_whole_days(team, corpus, found):
    Message.objects.filter(pk=corpus["plan"].pk).update(created_at=datetime(2026, 1, 10, 12, tzinfo=UTC))
    Message.objects.filter(pk=corpus["review"].pk).update(created_at=datetime(2026, 1, 11, 9, tzinfo=UTC))
    assert found(team.member, "plan before:2026-01-11") == ["The plan for the offsite is ready"]
    assert found(team.member, "plan before:2026-01-10") == []
    assert found(team.member, "plan after:2026-01-10") == ["Please review the deploy plan"]
    assert found(team.member, "plan after:2026-01-11") == []
    assert found(team.member, "plan after:2026-01-09 before:2026-01-12") == [
        "Please review the deploy plan",
        "The plan for the offsite is ready",
    ]


def test_has_link(team, corpus, found, say):
    say(team.owner, team.general, "see www.example.org for the notes")
    assert found(team.member, "notes has:link") == [
        "see www.example.org for the notes",
        "Notes are on https://example.com/notes",
    ]
    assert found(team.member, "has:link -example") == []


def test_unknown_operators_are_words(team, corpus, found):
    assert found(team.member, "foo:bar") == ["ratio foo:bar is odd"]
    assert found(team.member, "has:pictures") == []  # "has" and "pictures": no message has both


def test_punctuation_and_quotes_never_break_the_query(team, corpus, found, search):
    for q in ['"', "'", "-", "*", "(", "review' OR 1=1 --", '" AND NOT "', "NEAR(a b)", "plan:*", "!plan", "&|<->"]:
        status, data = search(team.member, q)
        assert status == 200, (q, data)
    assert found(team.member, "review' OR 1=1 --") == []
    assert found(team.member, "(plan)") == found(team.member, "plan")


def test_relevance_puts_the_best_match_first(team, say, found):
    say(team.owner, team.general, "budget budget budget review of the budget")
    say(team.owner, team.general, "the budget, and then lunch with the whole team at the new place downtown")
    say(team.owner, team.general, "lunch")
    best, newest = (
        "budget budget budget review of the budget",
        "the budget, and then lunch with the whole team at the new place downtown",
    )
    assert found(team.member, "budget", sort="relevance") == [best, newest]
    assert found(team.member, "budget") == [newest, best]
    assert found(team.member, "budget", sort="newest") == [newest, best]
    # Without words to rank by, relevance is newest first.
    assert found(team.member, "from:olivia", sort="relevance") == ["lunch", newest, best]
