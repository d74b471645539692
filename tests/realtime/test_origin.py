"""The handshake's Origin must be the site's own (scheme, host and port) or listed in CSRF_TRUSTED_ORIGINS."""

import pytest
from channels.testing import WebsocketCommunicator

from tests.realtime.conftest import TIMEOUT, call, login_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def handshake(application, alice):
    """`await handshake(origin, host=…, scheme=…, headers=…)` → whether a logged-in handshake was accepted."""

    async def attempt(origin: str | None, *, host: str = "testserver", scheme: str = "ws", headers=()) -> bool:
        sent = [(b"host", host.encode()), (b"cookie", await call(login_cookie)(alice)), *headers]
        if origin is not None:
            sent.append((b"origin", origin.encode()))
        ws = WebsocketCommunicator(application, "/ws/", headers=sent)
        ws.scope["scheme"] = scheme  # what the server saw: ws, or wss behind TLS
        connected, _code = await ws.connect(timeout=TIMEOUT)  # a close before accept: the server answers 403
        if connected:
            await ws.disconnect()
        return connected

    return attempt


async def test_the_sites_own_origin_is_accepted(handshake):
    assert await handshake("http://testserver")
    assert await handshake("http://testserver:80")  # the default port may be written out
    assert await handshake("http://testserver:8000", host="testserver:8000")
    assert await handshake("https://testserver", scheme="wss")


async def test_another_port_is_refused(handshake):
    assert not await handshake("http://testserver:9999", host="testserver:8000")
    assert not await handshake("http://testserver", host="testserver:8000")
    assert not await handshake("http://testserver:8000", host="testserver")


async def test_another_scheme_is_refused(handshake):
    assert not await handshake("https://testserver")  # the site is served over plain http
    assert not await handshake("http://testserver", scheme="wss")  # the site is served over https


async def test_another_host_is_refused(handshake):
    assert not await handshake("http://evil.example")
    assert not await handshake("http://testserver.evil.example")
    # A Host outside ALLOWED_HOSTS (DNS rebinding) is refused even when the Origin matches it.
    assert not await handshake("http://evil.example", host="evil.example")


async def test_a_missing_or_opaque_origin_is_refused(handshake):
    assert not await handshake(None)
    assert not await handshake("null")
    assert not await handshake("http://testserver/path")
    assert not await handshake("http://testserver:notaport")


async def test_the_proxys_scheme_counts_only_when_configured(handshake, settings):
    forwarded = [(b"x-forwarded-proto", b"https")]
    assert not await handshake("https://testserver", headers=forwarded)  # the header is not trusted by default
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await handshake("https://testserver", headers=forwarded)
    assert not await handshake("http://testserver", headers=forwarded)
    assert await handshake("http://testserver", headers=[(b"x-forwarded-proto", b"http")], scheme="wss")


async def test_origins_listed_in_csrf_trusted_origins_are_accepted(handshake, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com", "https://*.example.org"]
    assert await handshake("https://chat.example.com")
    assert await handshake("https://app.example.org")
    assert not await handshake("http://chat.example.com")  # another scheme than the one listed
    assert not await handshake("https://chat.example.com:8443")  # another port
    assert not await handshake("https://example.com")
