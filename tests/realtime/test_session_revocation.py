"""The sessions page's log-out buttons close the sockets of the sessions they end, at once."""

import re

import pytest
from django.test import Client

from messaging import protocol
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def _session_ids(page: str) -> list[str]:
    return re.findall(r'data-session="([^"]+)"', page)


async def test_logging_a_session_out_closes_its_sockets_at_once(connect, team):
    laptop, phone = Client(), Client()
    await call(laptop.force_login)(team.alice)
    await call(phone.force_login)(team.alice)
    phone_socket = await connect(cookie=f"sessionid={phone.cookies['sessionid'].value}".encode())
    laptop_socket = await connect(cookie=f"sessionid={laptop.cookies['sessionid'].value}".encode())
    page = (await call(laptop.get)("/accounts/settings/")).content.decode()
    phone_id = _session_ids(page)[1]  # the current session is listed first

    await call(laptop.post)(f"/accounts/settings/sessions/{phone_id}/logout/")

    assert await phone_socket.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert await laptop_socket.nothing()


async def test_log_out_all_others_closes_their_sockets(connect, team):
    laptop, phone, tablet = Client(), Client(), Client()
    for device in (laptop, phone, tablet):
        await call(device.force_login)(team.alice)
    sockets = [await connect(cookie=f"sessionid={d.cookies['sessionid'].value}".encode()) for d in (phone, tablet)]
    laptop_socket = await connect(cookie=f"sessionid={laptop.cookies['sessionid'].value}".encode())

    await call(laptop.post)("/accounts/settings/sessions/logout-others/")

    for socket in sockets:
        assert await socket.closed_with() == protocol.CLOSE_SESSION_ENDED
    assert await laptop_socket.nothing()
