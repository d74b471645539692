"""Unread over the socket: the marker moves only as far as the reader saw, and "mark as read" (a plain
form) reaches every tab of the reader as `unread` frames."""

import pytest
from django.test import Client

from chatsite import sockets
from messaging import services
from messaging.models import ReadState
from messaging.realtime.counters import unread_frame
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def page_client(user) -> Client:
    client = Client()
    await call(client.force_login)(user)
    return client


async def marker(user, conversation) -> int:
    state = await call(ReadState.objects.filter(user=user, conversation=conversation).first)()
    return state.last_read_seq if state else 0


async def history(team, count: int, *, author=None, body="message") -> None:
    for n in range(count):
        await call(services.message_send)(
            actor=author or team.alice, conversation_id=team.general.pk, body=f"{body} {n}"
        )


async def test_a_read_frame_marks_only_what_was_seen_of_90_unread(connect, team):
    await history(team, 90)
    bob, bob_other_tab, alice = await connect(team.bob), await connect(team.bob), await connect(team.alice)
    assert bob.hello["conversations"] == [{"id": team.general.pk, "last_seq": 90, "unread": 90, "mentions": 0}]

    await bob.send({"type": "read", "conversation": team.general.pk, "seq": 15})  # the highest seq on screen
    unread = {"type": "unread", "conversation": team.general.pk, "count": 75, "mentions": 0}
    assert await bob.expect("unread") == unread
    assert await bob_other_tab.expect("unread") == unread
    assert (await alice.expect("read"))["seq"] == 15
    assert await marker(team.bob, team.general) == 15


async def test_opening_the_page_marks_its_window_and_tells_every_tab_what_is_left(connect, team):
    await history(team, 90)
    bob = await connect(team.bob)
    response = await call((await page_client(team.bob)).get)(f"/chats/{team.general.pk}/")
    assert response.status_code == 200
    window_end = await marker(team.bob, team.general)
    assert 0 < window_end < 90  # not all 90
    assert await bob.expect("unread") == {
        "type": "unread",
        "conversation": team.general.pk,
        "count": 90 - window_end,
        "mentions": 0,
    }


async def test_mark_as_read_from_a_form_reaches_every_tab(connect, team):
    await history(team, 5, body="@bob look")
    bob, bob_other_tab, alice = await connect(team.bob), await connect(team.bob), await connect(team.alice)
    assert bob.hello["conversations"][0]["mentions"] == 5
    response = await call((await page_client(team.bob)).post)(f"/chats/{team.general.pk}/read/")
    assert response.status_code == 302
    zero = {"type": "unread", "conversation": team.general.pk, "count": 0, "mentions": 0}
    assert await bob.expect("unread") == zero
    assert await bob_other_tab.expect("unread") == zero
    assert (await alice.expect("read"))["seq"] == 5


async def test_mark_all_as_read_reaches_every_tab_for_every_conversation(connect, team):
    direct, _ = await call(services.direct_open)(actor=team.alice, username="bob")
    await history(team, 3, body="@bob hi")
    await call(services.message_send)(actor=team.alice, conversation_id=direct.pk, body="psst")
    bob, bob_other_tab = await connect(team.bob), await connect(team.bob)
    assert {c["id"]: c["unread"] for c in bob.hello["conversations"]} == {team.general.pk: 3, direct.pk: 1}

    response = await call((await page_client(team.bob)).post)("/chats/read/")
    assert response.status_code == 302 and response["Location"] == "/chats/"
    for tab in (bob, bob_other_tab):
        frames = [await tab.expect("unread"), await tab.expect("unread")]
        assert sorted(frames, key=lambda f: f["conversation"]) == [
            {"type": "unread", "conversation": cid, "count": 0, "mentions": 0}
            for cid in sorted([team.general.pk, direct.pk])
        ]
    # The sockets' own counters follow: the next message counts from zero.
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="again")
    await bob.expect("message.new")
    assert (await bob.expect("unread"))["count"] == 1


@pytest.mark.parametrize(("conversation", "count", "mentions"), [(1, 0, 0), (7, 75, 3), (2**40, 10**6, 12)])
def test_the_unread_frame_text_is_the_encoded_frame(conversation, count, mentions):
    """Built from a template per recipient (not `json.dumps`): the same text, to the byte."""
    frame = {"type": "unread", "conversation": conversation, "count": count, "mentions": mentions}
    assert unread_frame(conversation, count, mentions) == sockets.encode(frame)
