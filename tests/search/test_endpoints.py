"""The contract of /search/ and /search/messages/: shapes, paging, highlights, errors, JS off."""

import re

import pytest

from messaging.models import Conversation, Message
from messaging.serializers import message_json
from tests.conftest import send


def unmarked(response) -> str:
    """The page's HTML without the <mark> tags of highlights."""
    return re.sub(r"</?mark>", "", response.content.decode())


def test_json_shape_is_the_history_message_plus_conversation_and_highlight(cast, search, login):
    message = send(cast.owner, cast.general, "Ship the release")
    status, data = search(cast.member, "release")
    assert status == 200
    history = login(cast.member).get(f"/chats/{cast.general.pk}/messages/").json()["messages"]
    assert data == {
        "results": [
            {
                "message": history[0],
                "conversation": {
                    "id": cast.general.pk,
                    "kind": "group",
                    "name": "Team / general",
                    "group": {"id": cast.group.pk, "name": "Team"},
                },
                "highlight": "Ship the <mark>release</mark>",
            }
        ],
        "has_more": False,
    }
    assert history[0] == message_json(Message.objects.select_related("author").get(pk=message.pk))


def test_a_result_carries_its_attachments_reactions_and_reply_as_history_does(cast, search, login, settings, tmp_path):
    """The results are read by id with flags for attachments and reactions: those are read only when some
    result has any, and then each result is still exactly the history endpoint's message for the reader."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from messaging import attachments, services

    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
        },
    }
    upload = SimpleUploadedFile("notes.txt", b"release notes", content_type="text/plain")
    file_id = attachments.attachment_upload(actor=cast.owner, conversation_id=cast.general.pk, upload=upload).pk
    with_file = send(cast.owner, cast.general, "release with a file", attachments=[file_id])
    reacted = send(cast.owner, cast.general, "release with reactions")
    services.reaction_toggle(actor=cast.member, conversation_id=cast.general.pk, seq=reacted.seq, emoji="👍")
    services.reaction_toggle(actor=cast.owner, conversation_id=cast.general.pk, seq=reacted.seq, emoji="🎉")
    send(cast.member, cast.general, "release reply", reply_to=with_file.seq)
    send(cast.owner, cast.general, "release plain")
    status, data = search(cast.member, "release")
    assert status == 200
    history = {m["id"]: m for m in login(cast.member).get(f"/chats/{cast.general.pk}/messages/").json()["messages"]}
    assert [r["message"] for r in data["results"]] == [history[r["message"]["id"]] for r in data["results"]]
    by_body = {r["message"]["body"]: r["message"] for r in data["results"]}
    assert [a["name"] for a in by_body["release with a file"]["attachments"]] == ["notes.txt"]
    assert {r["emoji"]: r["mine"] for r in by_body["release with reactions"]["reactions"]} == {"👍": True, "🎉": False}
    assert by_body["release reply"]["reply_to"]["seq"] == with_file.seq
    assert by_body["release plain"]["attachments"] == [] and by_body["release plain"]["reactions"] == []


def test_a_direct_conversation_is_named_after_the_other_person(cast, search):
    from messaging import services

    direct, _ = services.direct_open(actor=cast.owner, username="mia")
    services.message_send(actor=cast.owner, conversation_id=direct.pk, body="hello there")
    _, data = search(cast.member, "hello")
    assert data["results"][0]["conversation"] == {"id": direct.pk, "kind": "direct", "name": "Olivia", "group": None}


def test_highlights_escape_everything_but_the_marks(cast, search, login):
    send(cast.owner, cast.general, '<script>alert("x")</script> deploy & <b>reviews</b>')
    _, data = search(cast.member, "review deploy")
    assert data["results"][0]["highlight"] == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>deploy</mark> &amp; "
        "&lt;b&gt;<mark>reviews</mark>&lt;/b&gt;"
    )
    page = login(cast.member).get("/search/", {"q": "deploy"}).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; <mark>deploy</mark>" in page


def test_highlights_mark_prefixes_stems_and_words_whatever_their_case_and_accents(cast, search):
    send(cast.owner, cast.general, "Café deployed; DEPLOYS and redeploy, cafes")
    _, data = search(cast.member, "depl* cafe")
    assert data["results"][0]["highlight"] == (
        "<mark>Café</mark> <mark>deployed</mark>; <mark>DEPLOYS</mark> and redeploy, <mark>cafes</mark>"
    )


def test_json_paging_with_limit_and_offset(cast, found, search):
    for n in range(7):
        send(cast.owner, cast.general, f"standup note {n}")
    assert found(cast.member, "standup", limit=3) == ["standup note 6", "standup note 5", "standup note 4"]
    _status, data = search(cast.member, "standup", limit=3, offset=3)
    assert [r["message"]["body"] for r in data["results"]] == ["standup note 3", "standup note 2", "standup note 1"]
    assert data["has_more"] is True
    _status, data = search(cast.member, "standup", limit=3, offset=6)
    assert [r["message"]["body"] for r in data["results"]] == ["standup note 0"]
    assert data["has_more"] is False


def test_the_page_shows_twenty_results_and_links_to_the_next_and_previous(cast, login):
    for n in range(25):
        send(cast.owner, cast.general, f"standup note {n}")
    client = login(cast.member)
    first = client.get("/search/", {"q": "standup"})
    assert first.status_code == 200
    html = unmarked(first)
    assert html.count('class="search-result"') == 20
    assert "standup note 24<" in html and "standup note 5<" in html and "standup note 4<" not in html
    assert 'id="search-next" href="/search/?q=standup&amp;page=2"' in html
    assert 'id="search-previous"' not in html
    second = unmarked(client.get("/search/", {"q": "standup", "page": 2}))
    assert second.count('class="search-result"') == 5
    assert "standup note 4<" in second and "standup note 0<" in second
    assert 'id="search-previous" href="/search/?q=standup"' in second
    assert 'id="search-next"' not in second


def test_a_result_links_to_its_message_in_context(cast, login):
    message = send(cast.owner, cast.general, "find me")
    html = unmarked(login(cast.member).get("/search/", {"q": "find"}))
    assert f'href="/chats/{cast.general.pk}/?around={message.seq}#m{message.seq}"' in html
    assert "Team / general" in html and "Olivia" in html


def test_searching_one_conversation(cast, found, search, login):
    from messaging import services

    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="ops")
    send(cast.owner, cast.general, "backup done")
    send(cast.owner, topic, "backup failed")
    assert found(cast.member, "backup", conversation=topic.pk) == ["backup failed"]
    assert found(cast.member, "backup") == ["backup failed", "backup done"]
    html = unmarked(login(cast.member).get("/search/", {"q": "backup", "conversation": topic.pk}))
    assert "backup failed" in html and "backup done" not in html
    assert f'name="conversation" value="{topic.pk}"' in html


def test_a_conversation_you_cannot_see_is_not_found_like_one_that_does_not_exist(cast, search, login):
    send(cast.owner, cast.general, "secret")
    missing = (Conversation.objects.order_by("-pk").first().pk or 0) + 1000
    for conversation in (cast.general.pk, missing):
        status, data = search(cast.outsider, "secret", conversation=conversation)
        assert (status, data["error"]) == (404, "not_found")
        assert login(cast.outsider).get("/search/", {"q": "secret", "conversation": conversation}).status_code == 404


def test_anonymous_gets_401_json_and_the_login_page(client):
    response = client.get("/search/messages/", {"q": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    page = client.get("/search/", {"q": "x"})
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 201},
        {"q": "x", "sort": "oldest"},
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "51"},
        {"q": "x", "offset": "-1"},
        {"q": "x", "offset": "1001"},
        {"q": "x", "conversation": "abc"},
        {"q": "x", "conversation": "0"},
        {"q": "x", "conversation": "9" * 30},
        # Numbers in ASCII digits only, as the history endpoint reads them (chatsite/numbers.py).
        {"q": "x", "conversation": "\uff11"},  # a full-width 1
        {"q": "x", "conversation": " 1"},
        {"q": "x", "limit": "\u0665"},  # an Arabic-Indic 5
        {"q": "x", "offset": "+1"},
        {"q": "x before:yesterday"},
        {"q": "x after:2026-02-30"},
    ],
)
def test_bad_parameters_are_400_invalid(cast, search, params):
    status, data = search(cast.member, **params)
    assert status == 400
    assert data["error"] == "invalid" and data["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 201},
        {"q": "x", "page": "0"},
        {"q": "x", "page": "abc"},
        {"q": "x", "page": "52"},
        {"q": "x", "page": "\uff12"},
        {"q": "x before:soon"},
    ],
)
def test_the_page_answers_bad_parameters_with_400_and_the_form(cast, login, params):
    response = login(cast.member).get("/search/", params)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="search-page-form"' in html and 'id="search-error"' in html


def test_an_empty_search_shows_the_hint(cast, login, search):
    for q in ("", "   ", "!!!"):
        response = login(cast.member).get("/search/", {"q": q})
        assert response.status_code == 200
        assert 'id="search-hint"' in response.content.decode()
        assert search(cast.member, q) == (200, {"results": [], "has_more": False})
    assert 'id="search-hint"' in login(cast.member).get("/search/").content.decode()


def test_the_search_box_is_in_the_header_of_every_logged_in_page(cast, login, client):
    member = login(cast.member)
    for path in ("/chats/", f"/chats/{cast.general.pk}/", f"/groups/{cast.group.pk}/", "/accounts/settings/", "/dm/"):
        html = member.get(path).content.decode()
        assert 'class="header-search" method="get" action="/search/"' in html, path
    assert 'action="/search/"' not in client.get("/accounts/login/").content.decode()


def test_the_conversation_page_offers_to_search_in_it(cast, login):
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert 'class="search-in"' in html
    assert f'<input type="hidden" name="conversation" value="{cast.general.pk}">' in html


def test_the_results_page_reads_a_fixed_number_of_queries(cast, login, django_assert_max_num_queries):
    for n in range(20):
        send(cast.owner, cast.general, f"load item {n}")
    client = login(cast.member)
    with django_assert_max_num_queries(6):
        response = client.get("/search/", {"q": "load"})
    assert response.content.decode().count('class="search-result"') == 20


def test_the_json_endpoint_reads_attachments_and_reactions_only_when_a_result_has_some(cast, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging import services

    for n in range(20):
        send(cast.owner, cast.general, f"load item {n}")
    client = login(cast.member)

    def tables_read() -> str:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/search/messages/", {"q": "load"}).status_code == 200
        return " ".join(q["sql"] for q in captured.captured_queries)

    read = tables_read()
    assert 'FROM "messaging_reaction"' not in read and 'FROM "messaging_attachment"' not in read
    message = send(cast.owner, cast.general, "load with a reaction")
    services.reaction_toggle(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq, emoji="👍")
    read = tables_read()
    assert 'FROM "messaging_reaction"' in read and 'FROM "messaging_attachment"' not in read
