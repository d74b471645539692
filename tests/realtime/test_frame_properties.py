"""Property-based: whatever a client sends, the socket answers with frames, never a fault.

Random JSON values of every type, size and depth in every field of every frame type,
random text and bytes. After each, the same socket still answers a valid frame, and
nothing was logged as an error. Examples are bounded so the suite stays quick.
"""

import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging import protocol
from tests.realtime.conftest import ORIGIN, TIMEOUT, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
FIELDS = ["conversation", "seq", "body", "client_id", "cursors"]
frame_types = st.sampled_from(sorted(protocol.CLIENT_TYPES)) | st.text(max_size=20)
frames = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    frame_types,
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=5),
)
raw_texts = st.text(max_size=200) | st.builds(lambda depth: "[" * depth, st.integers(1000, 10000))
inputs = st.lists(
    frames.map(lambda f: ("text", json.dumps(f)))
    | raw_texts.map(lambda t: ("text", t))
    | st.binary(max_size=100).map(lambda b: ("bytes", b)),
    min_size=1,
    max_size=4,
)
ALLOWED = {
    protocol.ERROR,
    protocol.MESSAGE_ACK,
    protocol.MESSAGE_NEW,
    protocol.MESSAGE_EDITED,
    protocol.MESSAGE_DELETED,
    protocol.SYNC_DONE,
    protocol.UNREAD,
    protocol.READ,
    protocol.PRESENCE,
    protocol.TYPING,
}


@pytest.fixture
def cookie(team):
    return login_cookie(team.bob)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sent=inputs)
def test_no_frame_can_fault_the_socket(sent, cookie, caplog, settings_overrides):
    caplog.clear()

    async def scenario() -> None:
        from chatsite.asgi import application

        ws = WebsocketCommunicator(
            application, "/ws/", headers=[(b"host", b"testserver"), (b"origin", ORIGIN), (b"cookie", cookie)]
        )
        connected, _ = await ws.connect(timeout=TIMEOUT)
        assert connected
        assert (await ws.receive_json_from(TIMEOUT))["type"] == protocol.HELLO
        for kind, data in sent:
            await ws.send_input({"type": "websocket.receive", kind: data})  # empty frames too
        await ws.send_json_to({"type": protocol.SYNC, "cursors": {}})
        while True:  # everything answered, then the probe's own answer: the socket is still there
            output = await ws.receive_output(TIMEOUT)
            assert output["type"] == "websocket.send", output
            frame = json.loads(output["text"])
            assert frame["type"] in ALLOWED, frame
            if frame["type"] == protocol.ERROR:
                assert frame["code"] in protocol.ERROR_CODES - {protocol.INTERNAL_ERROR, protocol.UNAVAILABLE}, frame
            if frame["type"] == protocol.SYNC_DONE and await ws.receive_nothing(0.05):
                break
        await ws.disconnect()

    async_to_sync(scenario)()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []


@pytest.fixture
def settings_overrides(settings):
    """No limit on error frames here: every example is a burst of bad frames on purpose."""
    settings.WS_ABUSE_ERRORS = 10**6
    settings.WS_FRAME_BURST = 10**6
