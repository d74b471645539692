"""A NUL character anywhere a client can put one is refused or ignored, never a 500.

PostgreSQL text cannot hold NUL: a `%00` that reached a lookup raised DataError. Found by the
property test over the per-user endpoints (tests/messaging/test_params_property.py) on PostgreSQL;
SQLite stores NUL, so there these pass before the fix too.
"""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(login, cast):
    return login(cast.member)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/people/%00/"),
        ("get", "/people/%00/avatar/"),
        ("get", "/people/ada%00/"),
        ("post", "/dm/%00/"),
        ("post", "/files/%00/discard/"),
        ("post", "/files/abc%00/discard/"),
        ("get", "/files/%00/"),
        ("get", "/files/%00/thumbnail/"),
    ],
)
def test_a_nul_in_a_path_segment_names_nothing(member_client, method, path):
    assert getattr(member_client, method)(path).status_code == 404


@pytest.mark.parametrize("action", ["remove", "role"])
def test_a_nul_in_a_member_path_names_nothing(login, cast, action):
    response = login(cast.owner).post(f"/groups/{cast.group.pk}/members/%00/{action}/", {"role": "admin"})
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/people/", "/people/search/", "/groups/"])
def test_a_nul_in_a_search_box_is_ignored(member_client, cast, path):
    response = member_client.get(path, {"q": "m\x00ia"})
    assert response.status_code == 200
    if path == "/people/search/":
        assert [p["username"] for p in response.json()["people"]] == [cast.member.username]


def test_a_nul_in_the_message_search_box_is_a_form_error(member_client):
    assert member_client.get("/search/", {"q": "a\x00b"}).status_code == 400
    assert member_client.get("/search/messages/", {"q": "a\x00b"}).status_code == 400
