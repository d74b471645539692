"""A socket that gains a conversation while someone writes counts each message once (docs/protocol.md).

Each test forces the interleaving that used to double-count: a message stored between
the socket joining a conversation's group and reading its cursor. The last one forces
the interleaving that closed a socket opened during the heartbeat's account re-check.
"""

import asyncio
import threading

import pytest

from groups import services as group_services
from messaging import services
from messaging.realtime import selectors
from tests.realtime.conftest import TIMEOUT, call

pytestmark = pytest.mark.django_db(transaction=True)


def _before_first_call(monkeypatch, name: str, action) -> None:
    """Run `action` (a write, in the socket's worker thread) just before the first call of selectors.`name`."""
    original = getattr(selectors, name)
    done = []

    def patched(*args, **kwargs):
        if not done:
            done.append(True)
            action()
        return original(*args, **kwargs)

    monkeypatch.setattr(selectors, name, patched)


async def test_a_message_stored_while_being_added_is_delivered_once_and_counted_once(connect, team, monkeypatch):
    carol = await connect(team.carol)
    _before_first_call(
        monkeypatch,
        "cursors_for",
        lambda: services.message_send(actor=team.bob, conversation_id=team.general.pk, body="in between"),
    )

    await call(group_services.member_add)(actor=team.alice, group_id=team.group.pk, username="carol")

    added = (await carol.expect("conversation.added"))["conversation"]
    assert (added["last_seq"], added["unread"]) == (1, 1)  # the message is in the read
    new = await carol.expect("message.new")
    assert (new["message"]["seq"], new["message"]["body"]) == (1, "in between")
    assert await carol.nothing(0.3)  # no `unread` for it: it was counted once, in the frame
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="after")
    assert (await carol.expect("message.new"))["message"]["seq"] == 2
    assert (await carol.expect("unread"))["count"] == 2


async def test_a_conversation_gained_while_connecting_is_listened_to_before_its_cursor_is_read(
    connect, team, monkeypatch
):
    """Added to a group between `hello`'s two reads, with a message stored in between: `hello`
    counts it, the socket listens from then on, and the next message counts once more."""

    def added_and_written() -> None:
        group_services.member_add(actor=team.alice, group_id=team.group.pk, username="carol")
        services.message_send(actor=team.bob, conversation_id=team.general.pk, body="while connecting")

    _before_first_call(monkeypatch, "hello_state", added_and_written)

    carol = await connect(team.carol)

    assert carol.hello["conversations"] == [{"id": team.general.pk, "last_seq": 1, "unread": 1, "mentions": 0}]
    # The access event of the add arrives after `hello`: it carries the socket's counters, not older ones.
    added = (await carol.expect("conversation.added"))["conversation"]
    assert (added["last_seq"], added["unread"]) == (1, 1)
    await carol.send({"type": "sync", "cursors": {str(team.general.pk): 0}})
    synced = await carol.expect("message.new")
    assert synced["message"]["body"] == "while connecting"
    assert await carol.expect("sync.done") == {"type": "sync.done", "complete": True}
    await call(services.message_send)(actor=team.bob, conversation_id=team.general.pk, body="live")
    assert (await carol.expect("message.new"))["message"]["seq"] == 2
    assert await carol.expect("unread") == {
        "type": "unread",
        "conversation": team.general.pk,
        "count": 2,
        "mentions": 0,
    }
    assert await carol.nothing(0.2)


async def test_a_socket_opened_while_the_accounts_are_rechecked_is_not_closed(
    connect, team, settings, monkeypatch, registered
):
    """The heartbeat asks the database about the users it has sockets for; a socket of another user
    that opens while that query runs has no row in its answer, which must not read as "account gone"."""
    settings.REVOCATION_RECHECK_SECONDS = 0.1
    original = selectors.access_rows
    asked, answer, bob_asked = threading.Event(), threading.Event(), threading.Event()

    def held_on_first_call(user_ids, *args, **kwargs):
        rows = original(user_ids, *args, **kwargs)
        if not asked.is_set():
            asked.set()
            answer.wait(TIMEOUT)  # until bob's socket has opened
        elif team.bob.pk in user_ids:
            bob_asked.set()
        return rows

    monkeypatch.setattr(selectors, "access_rows", held_on_first_call)
    alice = await connect(team.alice)
    await registered(1)
    assert await asyncio.to_thread(asked.wait, TIMEOUT)  # the re-check of alice's account is running
    bob = await connect(team.bob)
    await registered(1)
    answer.set()
    assert await asyncio.to_thread(bob_asked.wait, TIMEOUT)  # the next re-check includes bob
    assert await bob.nothing(0.3) and await alice.nothing(0.3)  # both still open
    await call(services.message_send)(actor=team.alice, conversation_id=team.general.pk, body="still here")
    assert (await bob.expect("message.new"))["message"]["body"] == "still here"


async def test_two_sends_at_once_reach_every_socket_in_seq_order(connect, team, monkeypatch):
    """Two sends to one conversation in two worker threads: the first commits seq 1, but its thread is
    held after the commit until the second's event is handed over (or 0.5 s pass, which is what happens
    when the second cannot take its seq before the first has handed over: chatsite.sockets.commit_order).
    Before, the second's message.new was published first. The watcher is the first sender's other tab."""
    from chatsite import sockets

    first_committed, second_handed_over = threading.Event(), threading.Event()
    original_put, original_json = sockets.Outbox.put, services.message_json

    def put(outbox, group, event):
        original_put(outbox, group, event)
        if event.get("seq") == 2:
            second_handed_over.set()

    def message_json(message):
        if message.body == "first":
            first_committed.set()
            second_handed_over.wait(0.5)
        return original_json(message)

    monkeypatch.setattr(sockets.Outbox, "put", put)
    monkeypatch.setattr(services, "message_json", message_json)
    alice, bob, watcher = await connect(team.alice), await connect(team.bob), await connect(team.alice)

    await alice.send({"type": "message.send", "conversation": team.general.pk, "body": "first", "client_id": "a"})
    assert await asyncio.to_thread(first_committed.wait, TIMEOUT)
    await bob.send({"type": "message.send", "conversation": team.general.pk, "body": "second", "client_id": "b"})

    received = [(await watcher.receive_type("message.new"))[0]["message"] for _ in range(2)]
    assert [(m["seq"], m["body"]) for m in received] == [(1, "first"), (2, "second")]
