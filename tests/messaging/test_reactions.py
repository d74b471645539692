"""Emoji reactions: the service's rules, the no-JS form and its JSON answer, and the page."""

import pytest

from chatsite.errors import Invalid, NotFound
from messaging import services
from messaging.models import Reaction
from tests.conftest import send


def toggle(user, message, emoji):
    return services.reaction_toggle(actor=user, conversation_id=message.conversation_id, seq=message.seq, emoji=emoji)


def test_a_reaction_toggles_on_and_off_and_counts_every_member(cast):
    message = send(cast.owner, cast.general)
    _, reactions = toggle(cast.member, message, "👍")
    assert reactions == [{"emoji": "👍", "count": 1, "users": [cast.member.pk], "mine": True}]
    _, reactions = toggle(cast.admin, message, "👍")
    assert reactions == [{"emoji": "👍", "count": 2, "users": [cast.member.pk, cast.admin.pk], "mine": True}]
    _, reactions = toggle(cast.member, message, "👍")
    assert reactions == [{"emoji": "👍", "count": 1, "users": [cast.admin.pk], "mine": False}]
    assert list(Reaction.objects.values_list("user_id", "emoji")) == [(cast.admin.pk, "👍")]


@pytest.mark.parametrize("emoji", ["👍🏽", "👨‍👩‍👧", "🇫🇷", "1️⃣", "❤️"])
def test_one_emoji_grapheme_of_several_code_points_is_one_emoji(cast, emoji):
    message = send(cast.owner, cast.general)
    _, reactions = toggle(cast.member, message, emoji)
    assert [r["emoji"] for r in reactions] == [emoji]


@pytest.mark.parametrize("emoji", ["", "a", "👍👍", "👍 ", ":+1:", None, 5, "<b>", "👍" * 40])
def test_anything_but_one_emoji_is_refused_and_nothing_is_stored(cast, emoji):
    message = send(cast.owner, cast.general)
    with pytest.raises(Invalid):
        toggle(cast.member, message, emoji if emoji != "👍 " else "👍 x")
    assert not Reaction.objects.exists()


@pytest.mark.parametrize(
    ("sent", "stored"), [("❤", "❤️"), ("☺", "☺️"), ("1⃣", "1️⃣"), ("👁\u200d🗨", "👁️\u200d🗨️"), ("🏳\u200d🌈", "🏳️\u200d🌈")]
)
def test_an_emoji_without_its_variation_selector_is_the_same_reaction(cast, sent, stored):
    message = send(cast.owner, cast.general)
    toggle(cast.admin, message, stored)
    _, reactions = toggle(cast.member, message, sent)
    assert reactions == [{"emoji": stored, "count": 2, "users": [cast.admin.pk, cast.member.pk], "mine": True}]
    _, reactions = toggle(cast.member, message, stored)  # takes back the one it added
    assert reactions == [{"emoji": stored, "count": 1, "users": [cast.admin.pk], "mine": False}]


def test_a_reaction_names_its_first_users_only_and_counts_them_all(cast, settings):
    settings.REACTION_USERS_SHOWN = 2
    message = send(cast.owner, cast.general)
    for user in (cast.owner, cast.admin, cast.member):
        _, reactions = toggle(user, message, "👍")
    assert reactions == [{"emoji": "👍", "count": 3, "users": [cast.owner.pk, cast.admin.pk], "mine": True}]


def test_at_most_twenty_distinct_emoji_per_message(cast, settings):
    message = send(cast.owner, cast.general)
    choices = ["😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊",
               "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "😚", "🙂", "🤗", "🤩"]  # fmt: skip
    for emoji in choices[:20]:
        toggle(cast.member, message, emoji)
    with pytest.raises(Invalid):
        toggle(cast.member, message, choices[20])
    toggle(cast.admin, message, choices[0])  # one already there: still fine
    assert Reaction.objects.filter(message=message).count() == 21
    assert Reaction.objects.filter(message=message).values("emoji").distinct().count() == 20


def test_deleted_missing_and_invisible_messages_get_no_reactions(cast):
    message = send(cast.owner, cast.general)
    with pytest.raises(NotFound):
        toggle(cast.outsider, message, "👍")
    with pytest.raises(NotFound):
        services.reaction_toggle(actor=cast.member, conversation_id=cast.general.pk, seq=99, emoji="👍")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq)
    with pytest.raises(Invalid):
        toggle(cast.member, message, "👍")
    assert not Reaction.objects.exists()


# --- The form (no JS) and JSON ---------------------------------------------------------------


def url(message):
    return f"/chats/{message.conversation_id}/messages/{message.seq}/reactions/"


def test_the_form_toggles_and_returns_to_the_message(login, cast):
    message = send(cast.owner, cast.general)
    response = login(cast.member).post(url(message), {"emoji": "🎉"})
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{cast.general.pk}/#m{message.seq}"
    page = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert 'class="reaction mine" aria-pressed="true">🎉 <span class="reaction-count">1</span>' in page
    other = login(cast.admin).get(f"/chats/{cast.general.pk}/").content.decode()
    assert 'class="reaction" aria-pressed="false">🎉 <span class="reaction-count">1</span>' in other


def test_json_answers_with_the_reactions(login, cast):
    message = send(cast.owner, cast.general)
    response = login(cast.member).post(url(message), {"emoji": "👀"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "conversation": cast.general.pk,
        "seq": message.seq,
        "reactions": [{"emoji": "👀", "count": 1, "users": [cast.member.pk], "mine": True}],
    }


def test_refusals_change_nothing(login, cast):
    message = send(cast.owner, cast.general)
    assert login(cast.member).post(url(message), {"emoji": "nope"}).status_code == 400
    assert login(cast.outsider).post(url(message), {"emoji": "👍"}).status_code == 404
    bad = login(cast.member).post(url(message), {"emoji": "x"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid"
    anonymous = login(None).post(url(message), {"emoji": "👍"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert login(cast.member).get(url(message)).status_code == 405
    assert not Reaction.objects.exists()


# --- The message object carries them ---------------------------------------------------------


def test_the_history_endpoint_carries_each_messages_reactions_as_the_reader_sees_them(login, cast):
    first, second = send(cast.owner, cast.general, "one"), send(cast.owner, cast.general, "two")
    toggle(cast.member, first, "🎉")
    toggle(cast.admin, first, "🎉")
    toggle(cast.admin, first, "👀")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=second.seq)
    history = f"/chats/{cast.general.pk}/messages/"
    by_seq = {m["seq"]: m for m in login(cast.member).get(history).json()["messages"]}
    assert by_seq[first.seq]["reactions"] == [
        {"emoji": "🎉", "count": 2, "users": [cast.member.pk, cast.admin.pk], "mine": True},
        {"emoji": "👀", "count": 1, "users": [cast.admin.pk], "mine": False},
    ]
    assert by_seq[second.seq]["reactions"] == []  # deleted
    owner_view = {m["seq"]: m for m in login(cast.owner).get(history).json()["messages"]}
    assert [r["mine"] for r in owner_view[first.seq]["reactions"]] == [False, False]


def test_the_history_endpoint_reads_reactions_replies_and_files_in_a_fixed_number_of_queries(
    login, cast, django_assert_max_num_queries
):
    client = login(cast.member)
    history = f"/chats/{cast.general.pk}/messages/"
    original = send(cast.owner, cast.general, "first")
    for n in range(30):
        message, _ = services.message_send(
            actor=cast.owner, conversation_id=cast.general.pk, body=f"reply {n}", reply_to=original.seq
        )
        toggle(cast.admin, message, "👍")
    client.get(history)  # warm the session
    # session, user, access, the page, its attachments, reactions, the replies' originals
    with django_assert_max_num_queries(7):
        messages = client.get(history).json()["messages"]
    assert all(m["reactions"][0]["count"] == 1 for m in messages if m["reply_to"])
    assert all(m["reply_to"]["snippet"] == "first" for m in messages if m["seq"] > original.seq)
