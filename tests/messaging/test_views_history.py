"""GET /chats/<id>/messages/: the history endpoint's paging, shape and refusals."""

import pytest

from messaging import services

pytestmark = pytest.mark.django_db

MESSAGE_KEYS = {
    "id",
    "seq",
    "conversation",
    "author",
    "body",
    "html",
    "created_at",
    "edited_at",
    "deleted",
    "reply_to",
    "attachments",
    "reactions",
}


@pytest.fixture
def sixty(cast):
    """60 messages in the team's general conversation, seq 1..60."""
    for n in range(1, 61):
        author = cast.owner if n % 2 else cast.member
        services.message_send(actor=author, conversation_id=cast.general.pk, body=f"message {n}")
    return cast


def history(client, conversation_id, query=""):
    return client.get(f"/chats/{conversation_id}/messages/{query}")


def seqs(response) -> list[int]:
    return [m["seq"] for m in response.json()["messages"]]


def test_anonymous_gets_401_json(login, cast):
    response = history(login(None), cast.general.pk)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_authenticated"


def test_outsider_and_missing_ids_get_the_same_404_json(login, sixty):
    client = login(sixty.outsider)
    for conversation_id in (sixty.general.pk, 999999):
        response = history(client, conversation_id)
        assert response.status_code == 404
        assert response.json() == {
            "error": "not_found",
            "detail": "That conversation does not exist or you are not a member.",
        }
    # Bad parameters do not tell an outsider anything more.
    assert history(client, sixty.general.pk, "?limit=0").status_code == 404


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_members_get_the_latest_page_oldest_first(login, sixty, role):
    response = history(login(getattr(sixty, role)), sixty.general.pk)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"messages", "has_more"}
    assert seqs(response) == list(range(11, 61))
    assert data["has_more"] is True


def test_message_shape_is_exactly_message_json(login, cast):
    message, _ = services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body="<b>hi</b>")
    services.message_edit(actor=cast.owner, conversation_id=cast.general.pk, seq=1, body="<b>hi</b> edited")
    (item,) = history(login(cast.member), cast.general.pk).json()["messages"]
    assert set(item) == MESSAGE_KEYS
    message.refresh_from_db()
    assert item == {
        "id": message.pk,
        "seq": 1,
        "conversation": cast.general.pk,
        "author": {"id": cast.owner.pk, "username": "olivia", "display_name": "Olivia", "avatar_url": None},
        "body": "<b>hi</b> edited",  # the raw text (the edit box, export); pages insert `html`
        "html": "<p>&lt;b&gt;hi&lt;/b&gt; edited</p>",
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat(),
        "deleted": False,
        "reply_to": None,
        "attachments": [],
        "reactions": [],
    }


def test_empty_conversation(login, cast):
    assert history(login(cast.member), cast.general.pk).json() == {"messages": [], "has_more": False}


@pytest.mark.parametrize(
    ("query", "expected", "has_more"),
    [
        ("?before=11", list(range(1, 11)), False),
        ("?before=31&limit=10", list(range(21, 31)), True),
        ("?before=1", [], False),
        ("?limit=60", list(range(1, 61)), False),
        ("?limit=100", list(range(1, 61)), False),
        ("?limit=1", [60], True),
        ("?after=55", [56, 57, 58, 59, 60], False),
        ("?after=10&limit=5", [11, 12, 13, 14, 15], True),
        ("?after=0", list(range(1, 51)), True),
        ("?after=60", [], False),
        ("?after=10&before=20", list(range(11, 20)), False),
        ("?after=10&before=20&limit=5", [11, 12, 13, 14, 15], True),
        ("?after=10&before=16&limit=5", [11, 12, 13, 14, 15], False),
        ("?before=1000&limit=3", [58, 59, 60], True),
    ],
)
def test_paging(login, sixty, query, expected, has_more):
    response = history(login(sixty.member), sixty.general.pk, query)
    assert response.status_code == 200
    assert seqs(response) == expected
    assert response.json()["has_more"] is has_more


def test_paging_back_covers_everything_once(login, sixty):
    client = login(sixty.member)
    collected: list[int] = []
    query = "?limit=7"
    while True:
        response = history(client, sixty.general.pk, query)
        page = seqs(response)
        collected = page + collected
        if not response.json()["has_more"]:
            break
        query = f"?limit=7&before={page[0]}"
    assert collected == list(range(1, 61))


def test_deleted_messages_keep_their_seq_with_an_empty_body(login, sixty):
    services.message_delete(actor=sixty.owner, conversation_id=sixty.general.pk, seq=5)
    items = history(login(sixty.member), sixty.general.pk, "?after=3&limit=3").json()["messages"]
    assert [m["seq"] for m in items] == [4, 5, 6]
    assert items[1]["deleted"] is True and items[1]["body"] == ""
    assert items[0]["deleted"] is False and items[0]["body"] == "message 4"


@pytest.mark.parametrize(
    "query",
    [
        "?before=abc",
        "?after=1.5",
        "?before=-1",
        "?after=-3",
        "?limit=0",
        "?limit=101",
        "?limit=-5",
        "?limit=ten",
        "?before=",
        "?after=%201",
        "?limit=%EF%BC%95",  # a full-width digit is not a number here
    ],
)
def test_bad_params_are_400_json(login, sixty, query):
    response = history(login(sixty.member), sixty.general.pk, query)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == "invalid" and body["detail"]


def test_get_only(login, cast):
    client = login(cast.member)
    assert client.post(f"/chats/{cast.general.pk}/messages/", {"body": "x"}).status_code == 405


def test_direct_participants_and_outsider(login, alice, bob, carol):
    direct, _ = services.direct_open(actor=alice, username="bob")
    services.message_send(actor=bob, conversation_id=direct.pk, body="hi")
    for participant in (alice, bob):
        assert seqs(history(login(participant), direct.pk)) == [1]
    assert history(login(carol), direct.pk).status_code == 404


@pytest.mark.parametrize("count", [1, 50])
def test_query_count_is_constant(login, cast, count, django_assert_max_num_queries):
    for n in range(count):
        services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body=f"m{n}")
    client = login(cast.member)
    with django_assert_max_num_queries(6):  # session, user, access, the page, its attachments, reactions
        response = history(client, cast.general.pk)
    assert len(seqs(response)) == count
