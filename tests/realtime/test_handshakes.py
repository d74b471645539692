"""Handshakes in line (chatsite/handshakes.py): at most WS_HANDSHAKES_IN_FLIGHT at once, each turn ending
with `hello` or a refusal, so a crowd of connects is served in arrival order and none is left waiting."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from tests.realtime.conftest import HOST, ORIGIN, TIMEOUT, call, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _socket(application, cookie: bytes | None) -> WebsocketCommunicator:
    headers = [(b"host", HOST), (b"origin", ORIGIN)]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/", headers=headers)


async def _hello(ws: WebsocketCommunicator) -> dict:
    connected, code = await ws.connect(timeout=TIMEOUT)
    assert connected, code
    return await ws.receive_json_from(timeout=TIMEOUT)


async def test_with_one_turn_many_connects_all_get_hello_one_after_another(application, settings, team):
    settings.WS_HANDSHAKES_IN_FLIGHT = 1
    users = [team.alice, team.bob, team.carol] * 3
    cookies = [await call(login_cookie)(user) for user in users]
    sockets = [_socket(application, cookie) for cookie in cookies]
    try:
        hellos = await asyncio.gather(*(_hello(ws) for ws in sockets))
        assert [hello["user"]["id"] for hello in hellos] == [user.pk for user in users]
    finally:
        for ws in sockets:
            await ws.disconnect()


async def test_a_refused_handshake_ends_its_turn(application, settings, alice):
    settings.WS_HANDSHAKES_IN_FLIGHT = 1
    for _ in range(3):  # anonymous: refused before accept, and the next one gets the turn
        connected, _code = await _socket(application, None).connect(timeout=TIMEOUT)
        assert not connected
    refused = _socket(application, b"sessionid=not-a-session")
    assert not (await refused.connect(timeout=TIMEOUT))[0]
    ws = _socket(application, await call(login_cookie)(alice))
    try:
        assert (await _hello(ws))["user"]["username"] == "alice"
    finally:
        await ws.disconnect()


async def test_a_client_that_leaves_at_once_ends_its_turn(application, settings, alice):
    settings.WS_HANDSHAKES_IN_FLIGHT = 1
    cookie = await call(login_cookie)(alice)
    gone = _socket(application, cookie)
    await gone.send_input({"type": "websocket.connect"})
    await gone.send_input({"type": "websocket.disconnect", "code": 1006})
    await gone.wait(TIMEOUT)  # the app has returned
    ws = _socket(application, cookie)
    try:
        assert (await _hello(ws))["user"]["username"] == "alice"
    finally:
        await ws.disconnect()
