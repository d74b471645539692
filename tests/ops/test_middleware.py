"""The middleware chain under ASGI runs in one worker thread (chatsite.middleware.SyncChain)."""

import asyncio

import pytest
from django.conf import settings
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db(transaction=True)


def test_sync_chain_is_last():
    """Any middleware after it that can run async would bring the per-middleware hops back."""
    assert settings.MIDDLEWARE[-1] == "chatsite.middleware.SyncChain"


def test_a_page_and_an_async_view_are_served_under_asgi(alice):
    """A logged-in page through the ASGI handler and the chain, and an async view on the event loop.
    (How many thread hand-offs a page costs is measured by the benchmark, not pinned here.)"""
    login = Client()
    login.force_login(alice)
    client = AsyncClient()
    client.cookies = login.cookies

    async def get(path):
        return await client.get(path)

    page = asyncio.run(get("/chats/"))
    assert page.status_code == 200 and b'id="conversation-list"' in page.content
    health = asyncio.run(get("/healthz"))  # an async view still runs on the event loop
    assert health.status_code == 200 and health.json()["database"] == "ok"
