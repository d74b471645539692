"""static/js/socket.js in Chromium against a scripted server (tests/e2e/fake_socket.js).

The real module runs in a real browser; the test plays the server frame by frame,
so de-duplication, gap filling, sync cursors, the outbox and reconnecting are
checked deterministically, without a network between.
"""

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

FAKE_SOCKET = Path(__file__).with_name("fake_socket.js")
ALICE = {"id": 1, "username": "alice", "display_name": "Alice"}
BOB = {"id": 2, "username": "bob", "display_name": ""}


def message(conversation: int, seq: int, author=BOB, body: str | None = None) -> dict:
    return {
        "id": conversation * 1000 + seq,
        "seq": seq,
        "conversation": conversation,
        "author": author,
        "body": body if body is not None else f"message {seq}",
        "created_at": "2026-01-02T10:00:00+00:00",
        "edited_at": None,
        "deleted": False,
    }


class Client:
    """One page running a ChatSocket whose sockets are fakes the test drives."""

    def __init__(self, page):
        self.page = page

    def start(self, cursors: dict[int, int]) -> None:
        self.page.evaluate(
            """async (cursors) => {
                const { ChatSocket } = await import("/js/socket.js");
                const socket = new ChatSocket({ url: "ws://test/ws/", cursors, backoffBaseMs: 20, backoffMaxMs: 80 });
                window.__chat = socket;
                window.__events = [];
                for (const type of ["message", "ack", "send.error", "conversation.removed", "status", "typing"]) {
                    socket.on(type, (payload) => window.__events.push([type, payload]));
                }
                socket.connect();
            }""",
            {str(k): v for k, v in cursors.items()},
        )

    def sockets(self) -> int:
        return self.page.evaluate("window.__sockets.length")

    def wait_socket(self, count: int) -> None:
        self.page.wait_for_function("(n) => window.__sockets.length >= n", arg=count, timeout=5000)

    def open(self, hello_conversations: list[dict], index: int = -1) -> None:
        self.page.evaluate(
            """([i, conversations, user]) => {
                const ws = window.__sockets.at(i);
                ws.serverOpen();
                ws.serverSend({ type: "hello", user, conversations });
            }""",
            [index, hello_conversations, ALICE],
        )

    def frame(self, frame: dict, index: int = -1) -> None:
        self.page.evaluate("([i, frame]) => window.__sockets.at(i).serverSend(frame)", [index, frame])

    def new(self, msg: dict, index: int = -1) -> None:
        self.frame({"type": "message.new", "message": msg}, index)

    def sent(self, index: int = -1) -> list[dict]:
        return self.page.evaluate("(i) => window.__sockets.at(i).sent", index)

    def drop(self, index: int = -1, code: int = 1006) -> None:
        self.page.evaluate("([i, code]) => window.__sockets.at(i).close(code)", [index, code])

    def delivered(self) -> list[tuple[int, int]]:
        return [(m["conversation"], m["seq"]) for kind, m in self.page.evaluate("window.__events") if kind == "message"]

    def events(self, kind: str) -> list:
        return [payload for k, payload in self.page.evaluate("window.__events") if k == kind]

    def send_message(self, conversation: int, body: str) -> str:
        return self.page.evaluate("([c, b]) => window.__chat.sendMessage(c, b)", [conversation, body])


@pytest.fixture
def client(browser, static_server):
    context = browser.new_context()
    page = context.new_page()
    page.add_init_script(path=str(FAKE_SOCKET))
    page.goto(f"{static_server}/css/app.css")
    yield Client(page)
    context.close()


def test_first_connect_syncs_the_page_conversation_and_those_behind_their_cursor(client):
    client.start({5: 2})
    client.wait_socket(1)
    assert client.sent(0) == []  # nothing before hello
    client.open(
        [
            {"id": 5, "last_seq": 2, "unread": 0},  # on the page, up to date: synced all the same
            {"id": 6, "last_seq": 9, "unread": 0},  # new to this page: its cursor starts at hello's
        ]
    )
    assert client.sent() == [{"type": "sync", "cursors": {"5": 2}}]
    assert client.page.evaluate("document.documentElement.dataset.socket") == "connected"


def test_a_list_page_syncs_only_what_moved_on_in_frames_of_bounded_size(client):
    client.start({})
    client.wait_socket(1)
    client.open([{"id": n, "last_seq": 3, "unread": 0} for n in range(1, 451)])
    assert client.sent() == []  # the first hello sets every cursor: nothing to catch up on

    # Back after a drop, half the conversations moved on: only those are synced.
    client.drop()
    client.wait_socket(2)
    client.open([{"id": n, "last_seq": 3 if n % 2 else 4, "unread": 0} for n in range(1, 451)], index=1)
    assert client.sent(1) == [{"type": "sync", "cursors": {str(n): 3 for n in range(2, 451, 2)}}]

    # All of them moved on: at most 400 cursors a frame, the rest once the first is done.
    client.drop(index=1)
    client.wait_socket(3)
    client.open([{"id": n, "last_seq": 4, "unread": 0} for n in range(1, 451)], index=2)
    first = client.sent(2)
    assert len(first) == 1 and len(first[0]["cursors"]) == 400
    client.frame({"type": "sync.done", "complete": True}, index=2)
    second = client.sent(2)[1:]
    assert len(second) == 1 and len(second[0]["cursors"]) == 50
    assert {**first[0]["cursors"], **second[0]["cursors"]} == {str(n): 3 for n in range(1, 451)}


def test_messages_are_delivered_once_and_in_seq_order(client):
    client.start({5: 2})
    client.wait_socket(1)
    client.open([{"id": 5, "last_seq": 2, "unread": 0}])
    assert client.sent() == [{"type": "sync", "cursors": {"5": 2}}]
    client.frame({"type": "sync.done", "complete": True})
    client.new(message(5, 3))
    client.new(message(5, 3))  # the same message twice (e.g. live and from sync)
    client.new(message(5, 2))  # already on the page
    assert client.delivered() == [(5, 3)]

    client.new(message(5, 6))  # 4 and 5 are missing: held back, sync asked for
    assert client.delivered() == [(5, 3)]
    assert client.sent()[-1] == {"type": "sync", "cursors": {"5": 3}}
    client.new(message(5, 5))
    client.new(message(5, 4))
    assert client.delivered() == [(5, 3), (5, 4), (5, 5), (5, 6)]
    client.frame({"type": "sync.done", "complete": True})
    client.new(message(5, 7))
    assert client.delivered()[-1] == (5, 7)
    assert len(client.delivered()) == 5


def test_incomplete_sync_is_repeated_with_the_advanced_cursor(client):
    client.start({5: 0})
    client.wait_socket(1)
    client.open([{"id": 5, "last_seq": 3, "unread": 3}])
    assert client.sent() == [{"type": "sync", "cursors": {"5": 0}}]
    client.new(message(5, 1))
    client.new(message(5, 2))
    client.frame({"type": "sync.done", "complete": False})
    assert client.sent()[-1] == {"type": "sync", "cursors": {"5": 2}}
    client.new(message(5, 3))
    client.frame({"type": "sync.done", "complete": True})
    assert len([f for f in client.sent() if f["type"] == "sync"]) == 2
    assert client.delivered() == [(5, 1), (5, 2), (5, 3)]


def test_reconnect_syncs_from_the_cursor_and_retries_unacked_sends_with_the_same_client_id(client):
    client.start({5: 1})
    client.wait_socket(1)
    client.open([{"id": 5, "last_seq": 1, "unread": 0}])
    client.frame({"type": "sync.done", "complete": True})
    client.new(message(5, 2))
    client_id = client.send_message(5, "hello while connected")
    assert client.sent()[-1] == {
        "type": "message.send",
        "conversation": 5,
        "body": "hello while connected",
        "client_id": client_id,
    }

    client.drop()
    assert client.page.evaluate("document.documentElement.dataset.socket") == "reconnecting"
    queued = client.send_message(5, "written while away")
    client.wait_socket(2)  # the backoff timer opened a new socket
    assert client.sent(1) == []
    client.open([{"id": 5, "last_seq": 4, "unread": 2}], index=1)
    sent = client.sent(1)
    assert sent[0] == {"type": "sync", "cursors": {"5": 2}}
    assert [(f["client_id"], f["body"]) for f in sent[1:]] == [
        (client_id, "hello while connected"),
        (queued, "written while away"),
    ]

    # The server acks both; the messages missed while away arrive once, in order.
    client.new(message(5, 3), index=1)
    client.new(message(5, 4), index=1)
    client.frame({"type": "sync.done", "complete": True}, index=1)
    client.frame({"type": "message.ack", "client_id": client_id, "message": message(5, 5, ALICE)}, index=1)
    client.new(message(5, 5, ALICE), index=1)
    client.frame({"type": "message.ack", "client_id": queued, "message": message(5, 6, ALICE)}, index=1)
    assert client.delivered() == [(5, 2), (5, 3), (5, 4), (5, 5), (5, 6)]
    assert client.page.evaluate("window.__chat.outbox.size") == 0
    assert client.events("status") == ["connecting", "connected", "reconnecting", "connected"]

    # A third connection re-sends nothing that was acked.
    client.drop(index=1)
    client.wait_socket(3)
    client.open([{"id": 5, "last_seq": 6, "unread": 0}], index=2)
    assert client.sent(2) == [{"type": "sync", "cursors": {"5": 6}}]


def test_refused_send_leaves_the_outbox(client):
    client.start({})
    client.wait_socket(1)
    client.open([{"id": 5, "last_seq": 0, "unread": 0}])
    client_id = client.send_message(5, "x" * 10)
    client.frame({"type": "error", "code": "rate_limited", "detail": "Slow down.", "client_id": client_id})
    assert client.events("send.error")[0]["code"] == "rate_limited"
    assert client.page.evaluate("window.__chat.outbox.size") == 0


def test_lost_conversations_are_forgotten_and_their_late_frames_dropped(client):
    client.start({5: 0, 7: 0})
    client.wait_socket(1)
    client.open([{"id": 5, "last_seq": 0, "unread": 0}, {"id": 7, "last_seq": 0, "unread": 0}])
    client.frame({"type": "conversation.removed", "conversation": 5})
    client.new(message(5, 1))  # in flight when access ended
    assert client.delivered() == []
    assert client.events("conversation.removed") == [{"type": "conversation.removed", "conversation": 5}]

    # Removed while disconnected: the next hello no longer lists it.
    client.drop()
    client.wait_socket(2)
    client.open([], index=1)
    assert {"type": "conversation.removed", "conversation": 7} in client.events("conversation.removed")
    client.new(message(7, 1), index=1)
    assert client.delivered() == []


def test_signed_out_close_stops_reconnecting(client):
    client.start({})
    client.wait_socket(1)
    client.open([])
    client.drop(code=4001)
    assert client.page.evaluate("document.documentElement.dataset.socket") == "closed"
    assert client.page.evaluate("window.__chat.stopped && window.__chat.retryTimer === null")
    assert client.sockets() == 1
