"""The middleware chain under ASGI runs in one worker thread (chatsite.middleware.SyncChain)."""

import asyncio

import pytest
from asgiref import sync
from django.conf import settings
from django.test import AsyncClient, Client

pytestmark = pytest.mark.django_db(transaction=True)


def test_sync_chain_is_last():
    """Any middleware after it that can run async would bring the per-middleware hops back."""
    assert settings.MIDDLEWARE[-1] == "chatsite.middleware.SyncChain"


@pytest.fixture
def switches(monkeypatch):
    """Counts asgiref's sync-to-async switches (each one a context copy and a thread hand-off)."""
    counted = {"n": 0}
    original = sync.SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        counted["n"] += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    return counted


def test_a_page_under_asgi_takes_few_thread_switches(alice, switches):
    """A logged-in page through the ASGI handler: 18 switches into a thread with Django's middleware
    each hopping on its own, 5 with the chain in one thread (the chain, the view, the request signals)."""
    login = Client()
    login.force_login(alice)
    client = AsyncClient()
    client.cookies = login.cookies

    async def get(path):
        return await client.get(path)

    asyncio.run(get("/chats/"))  # warm-up
    switches["n"] = 0
    page = asyncio.run(get("/chats/"))
    assert page.status_code == 200 and b'id="conversation-list"' in page.content
    assert switches["n"] <= 8
    health = asyncio.run(get("/healthz"))  # an async view still runs on the event loop
    assert health.status_code == 200 and health.json()["database"] == "ok"
