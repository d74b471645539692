"""`/chats/<id>/?around=<seq>`: the conversation page opened at a message, among its neighbours."""

import re

import pytest

from tests.conftest import send


@pytest.fixture
def long_conversation(cast):
    for n in range(1, 121):
        send(cast.owner if n % 2 else cast.member, cast.general, f"line {n}")
    return cast.general


def seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<li class="message[^"]*"[^>]* data-seq="(\d+)"', html)]


def test_the_page_shows_the_message_in_the_middle_of_its_neighbours(cast, long_conversation, login):
    response = login(cast.member).get(f"/chats/{long_conversation.pk}/", {"around": 60})
    assert response.status_code == 200
    html = response.content.decode()
    shown = seqs(html)
    assert shown == list(range(35, 85))
    assert 'data-around="60"' in html
    assert 'data-live="false"' in html
    assert 'id="m60"' in html
    # No-JS: older and newer links page on from that window.
    assert 'id="older-link" class="older-link" href="?before=35"' in html
    assert 'id="newer-link" href="?after=84"' in html


def test_around_the_first_and_the_last_messages(cast, long_conversation, login):
    client = login(cast.member)
    first = client.get(f"/chats/{long_conversation.pk}/", {"around": 1}).content.decode()
    assert seqs(first)[0] == 1 and 1 in seqs(first)
    assert 'id="older-link"' not in first and 'id="newer-link"' in first
    last = client.get(f"/chats/{long_conversation.pk}/", {"around": 120}).content.decode()
    assert seqs(last)[-1] == 120 and len(seqs(last)) == 26
    assert 'id="newer-link"' not in last and 'data-live="true"' in last
    beyond = client.get(f"/chats/{long_conversation.pk}/", {"around": 10**6}).content.decode()
    assert seqs(beyond)[-1] == 120


@pytest.mark.parametrize("around", ["-1", "abc", "1.5", "", str(10**30)])
def test_a_bad_around_is_400(cast, long_conversation, login, around):
    response = login(cast.member).get(f"/chats/{long_conversation.pk}/", {"around": around})
    assert response.status_code == 400


def test_around_in_a_conversation_you_cannot_see_is_404(cast, long_conversation, login):
    assert login(cast.outsider).get(f"/chats/{long_conversation.pk}/", {"around": 5}).status_code == 404


def test_from_a_search_result_to_the_message_with_javascript_off(cast, long_conversation, login):
    send(cast.owner, long_conversation, "the needle in the haystack")
    for n in range(30):
        send(cast.member, long_conversation, f"after {n}")
    client = login(cast.member)
    results = client.get("/search/", {"q": "needle"}).content.decode()
    link = re.search(r'class="search-result-link" href="([^"]+)"', results).group(1).replace("&amp;", "&")
    assert link == f"/chats/{long_conversation.pk}/?around=121#m121"
    page = client.get(link.split("#")[0]).content.decode()
    assert 121 in seqs(page) and 'id="m121"' in page and "the needle in the haystack" in page
