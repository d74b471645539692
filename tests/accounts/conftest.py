import pytest
from asgiref.sync import sync_to_async
from django.db import connections


@pytest.fixture
async def close_thread_connections():
    """Async tests reach the database from asgiref's worker thread: close its connections
    afterwards, or PostgreSQL refuses to drop the test database while they are open."""
    yield
    await sync_to_async(connections.close_all)()
