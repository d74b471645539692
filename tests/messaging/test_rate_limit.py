"""One per-user rate for message writes (sends, edits, deletes, reactions), whatever the adapter (here: form posts)."""

import pytest

from chatsite.errors import RateLimited
from messaging import services
from messaging.models import Message

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
SLOW_DOWN = "You are sending too fast"


@pytest.fixture
def limit(settings):
    """`limit(n)`: n message writes per user in a window longer than any test run."""

    def set_limit(n: int) -> None:
        settings.MESSAGE_RATE_LIMIT = n
        settings.MESSAGE_RATE_WINDOW = 10**9

    return set_limit


def bodies(conversation) -> list[str]:
    return list(Message.objects.filter(conversation=conversation).order_by("seq").values_list("body", flat=True))


def test_rapid_form_posts_over_the_limit_answer_429_and_are_not_stored(login, cast, limit):
    limit(20)
    client = login(cast.member)
    url = f"/chats/{cast.general.pk}/"
    statuses = [client.post(url, {"body": f"post {n}"}).status_code for n in range(40)]
    assert statuses == [302] * 20 + [429] * 20
    assert bodies(cast.general) == [f"post {n}" for n in range(20)]

    response = client.post(url, {"body": "one more"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 10**9  # when the window ends
    body = response.content.decode()
    assert SLOW_DOWN in body
    assert "one more" in body  # the composer keeps the text, nothing is lost from the page
    assert 'id="messages"' in body or "post 19" in body  # the conversation page itself


def test_the_limit_is_per_user(login, cast, limit):
    limit(2)
    for n in range(2):
        assert login(cast.member).post(f"/chats/{cast.general.pk}/", {"body": f"{n}"}).status_code == 302
    assert login(cast.member).post(f"/chats/{cast.general.pk}/", {"body": "x"}).status_code == 429
    assert login(cast.other_member).post(f"/chats/{cast.general.pk}/", {"body": "mine"}).status_code == 302
    assert bodies(cast.general) == ["0", "1", "mine"]


def test_edits_and_deletes_share_the_allowance_with_sends(login, cast, limit):
    limit(3)
    client = login(cast.member)
    assert client.post(f"/chats/{cast.general.pk}/", {"body": "first"}).status_code == 302
    edit_url = f"/chats/{cast.general.pk}/messages/1/edit/"
    delete_url = f"/chats/{cast.general.pk}/messages/1/delete/"
    assert client.post(edit_url, {"body": "edited"}).status_code == 302
    assert client.post(edit_url, {"body": "edited again"}).status_code == 302

    response = client.post(edit_url, {"body": "too fast"})
    assert response.status_code == 429
    assert SLOW_DOWN in response.content.decode() and "too fast" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 10**9
    response = client.post(edit_url, {"body": "too fast"}, **JSON)
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 10**9
    response = client.post(delete_url)
    assert response.status_code == 429 and SLOW_DOWN in response.content.decode()
    response = client.post(delete_url, **JSON)
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"

    stored = Message.objects.get(conversation=cast.general, seq=1)
    assert stored.body == "edited again" and not stored.deleted


def test_reactions_share_the_allowance_with_sends(login, cast, limit):
    """A reaction is a write like the others: it counts, and past the limit it is refused, not stored."""
    limit(2)
    client = login(cast.member)
    assert client.post(f"/chats/{cast.general.pk}/", {"body": "first"}).status_code == 302
    url = f"/chats/{cast.general.pk}/messages/1/reactions/"
    assert client.post(url, {"emoji": "👍"}, **JSON).status_code == 200
    response = client.post(url, {"emoji": "🎉"}, **JSON)
    assert response.status_code == 429 and response.json()["error"] == "rate_limited"
    assert client.post(url, {"emoji": "🎉"}).status_code == 429
    assert [
        r["emoji"] for r in client.get(f"/chats/{cast.general.pk}/messages/").json()["messages"][0]["reactions"]
    ] == ["👍"]


def test_the_services_raise_rate_limited_for_every_caller(cast, limit):
    limit(1)
    services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="one")
    with pytest.raises(RateLimited):
        services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="two")
    with pytest.raises(RateLimited):
        services.message_delete(actor=cast.member, conversation_id=cast.general.pk, seq=1)
    assert bodies(cast.general) == ["one"]


def test_a_cache_that_is_down_lets_messages_through_and_is_reported_once(login, cast, limit, settings, caplog):
    """The limit protects the service; it must not stop it. A closed port stands for Redis being down."""
    from chatsite import outage

    limit(1)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    outage._warned_at.clear()  # reported once a minute: start this test's minute
    for n in range(3):
        services.message_send(actor=cast.member, conversation_id=cast.general.pk, body=f"{n}")
    assert bodies(cast.general) == ["0", "1", "2"]
    warnings = [r for r in caplog.records if r.name == "chatsite.ratelimit"]
    assert len(warnings) == 1


def test_on_redis_the_window_counter_counts_every_write_and_expires_with_its_window(cast, limit, settings):
    """One script per hit: INCR, and the expiry set on the window's first hit, so no counter outlives it."""
    import time

    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        pytest.skip("the counter's expiry is Redis's (REDIS_URL)")
    window = 10**6
    limit(2)
    settings.MESSAGE_RATE_WINDOW = window
    key = cache.make_and_validate_key(f"rate:message:{cast.member.pk}:{int(time.time() // window)}")
    client = cache._cache.get_client(key, write=True)
    client.delete(key)
    for n in range(2):
        services.message_send(actor=cast.member, conversation_id=cast.general.pk, body=f"{n}")
    with pytest.raises(RateLimited):
        services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="over")
    assert bodies(cast.general) == ["0", "1"]
    assert int(client.get(key)) == 3
    assert 0 < client.ttl(key) <= window + 1
    client.delete(key)
