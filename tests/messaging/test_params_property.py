"""Property: no query string or path segment a client can send makes the history endpoint or the pages answer 5xx.

Numbers are capped by length before conversion (chatsite/numbers.py): before that, `?before=` with
5,000 digits raised Python's int-string limit and answered 500.
"""

import logging
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging import services

pytestmark = pytest.mark.django_db

BOUNDED = settings(
    max_examples=60,
    deadline=None,
    # The database fixtures are set up once per test, not per example: what the examples share is
    # read-only here (a GET marks the conversation read, which any number of times leaves it the same).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Digit strings around and past Python's 4,300-digit conversion limit (from_regex alone seldom
# makes strings that long).
long_digits = st.builds(lambda n, digit: digit * n, st.integers(4000, 6000), st.sampled_from("0123456789"))
digits = st.one_of(st.from_regex(r"\A[0-9]{1,40}\Z", fullmatch=True), long_digits)

# What a hostile or broken client puts where a number is expected.
numbers_as_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    digits,
    st.sampled_from(
        [
            "",
            " ",
            "1.5",
            "1e9",
            "-0",
            "+1",
            "0x10",
            "\u0663",
            "\uff11\uff12",  # Arabic-Indic and fullwidth digits
            "9" * 19,
            "9" * 20,
            str(2**63),
        ]
    ),
    st.text(max_size=50),
)
param_names = st.sampled_from(["before", "after", "limit", "seq", "page", "around", "latest", "reply_to"])
queries = st.dictionaries(param_names, numbers_as_text, max_size=3)


@pytest.fixture
def conversation(cast):
    for n in range(3):
        services.message_send(actor=cast.member, conversation_id=cast.general.pk, body=f"message {n}")
    return cast.general


@pytest.fixture
def member_client(login, cast):
    return login(cast.member)


def assert_no_server_error(response, caplog) -> None:
    assert response.status_code < 500, response.status_code
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@BOUNDED
@given(query=queries)
def test_the_history_endpoint_answers_any_query_without_a_server_error(member_client, conversation, caplog, query):
    caplog.clear()
    response = member_client.get(f"/chats/{conversation.pk}/messages/", query)
    assert_no_server_error(response, caplog)
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert ("messages" in body) if response.status_code == 200 else (body["error"] == "invalid")


@BOUNDED
@given(query=queries)
def test_the_conversation_page_answers_any_query_without_a_server_error(member_client, conversation, caplog, query):
    caplog.clear()
    response = member_client.get(f"/chats/{conversation.pk}/", query)
    assert_no_server_error(response, caplog)
    # 404: `reply_to` a whole number that is no message's seq here.
    assert response.status_code in ((200, 400, 404) if "reply_to" in query else (200, 400))


path_segments = st.one_of(digits, st.integers(min_value=0, max_value=2**70).map(str))


@BOUNDED
@given(conversation_id=path_segments, seq=path_segments)
def test_numeric_path_segments_never_give_a_server_error(member_client, conversation, caplog, conversation_id, seq):
    caplog.clear()
    for url in (
        f"/chats/{conversation_id}/",
        f"/chats/{conversation_id}/messages/",
        f"/chats/{conversation.pk}/messages/{seq}/edit/",
        f"/groups/{conversation_id}/",
    ):
        response = member_client.get(url)
        assert_no_server_error(response, caplog)
    response = member_client.post(f"/chats/{conversation.pk}/messages/{seq}/delete/")
    assert_no_server_error(response, caplog)
    assert response.status_code in (302, 403, 404)


@pytest.mark.parametrize("name", ["before", "after", "limit"])
def test_a_5000_digit_number_is_a_clear_400(member_client, conversation, name):
    response = member_client.get(f"/chats/{conversation.pk}/messages/", {name: "9" * 5000})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "at most 19 digits" in response.json()["detail"]
    page = member_client.get(f"/chats/{conversation.pk}/", {name: "9" * 5000})
    assert page.status_code == 400


def test_numbers_past_the_databases_range_find_nothing(member_client, conversation):
    assert member_client.get(f"/chats/{conversation.pk}/messages/", {"before": str(2**63)}).status_code == 400
    assert member_client.get(f"/chats/{conversation.pk}/messages/{2**63}/edit/").status_code == 404
    assert member_client.get(f"/chats/{2**63 - 1}/").status_code == 404
    assert member_client.get("/groups/" + "9" * 5000 + "/").status_code == 404


@BOUNDED
@given(conversation_id=path_segments, attachment_id=st.text(min_size=1, max_size=80), query=numbers_as_text)
def test_the_per_user_toggles_discard_and_member_lookup_never_give_a_server_error(
    member_client, conversation, caplog, conversation_id, attachment_id, query
):
    """The endpoints this round added: mark read, mute, star, discard an upload, people of a conversation."""
    caplog.clear()
    for url in (
        f"/chats/{conversation_id}/read/",
        f"/chats/{conversation_id}/mute/",
        f"/chats/{conversation_id}/star/",
    ):
        response = member_client.post(url, HTTP_ACCEPT="application/json")
        assert_no_server_error(response, caplog)
        assert response.status_code in (200, 302, 404)
    response = member_client.post(f"/files/{quote(attachment_id, safe='')}/discard/", HTTP_ACCEPT="application/json")
    assert_no_server_error(response, caplog)
    assert response.status_code == 404
    response = member_client.get("/people/search/", {"q": "a", "conversation": query})
    assert_no_server_error(response, caplog)
    assert response.status_code in (200, 400, 404)
