"""deactivate_user: no more logins, sessions ended, sockets told to close; bad names refused."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client

from accounts.models import User
from chatsite import sockets
from tests.conftest import PASSWORD


def sessions_of(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk))


def logged_in_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
def test_deactivates_and_ends_every_session(run_command, alice, bob):
    phone, laptop, other = logged_in_client(alice), logged_in_client(alice), logged_in_client(bob)
    assert sessions_of(alice) == 2 and phone.get("/chats/").status_code == 200

    output = run_command("deactivate_user", "ALICE")  # any letter case
    assert (
        output.strip() == f"Deactivated alice (id {alice.pk}): ended 2 login sessions; open sockets were told to close."
    )

    alice.refresh_from_db()
    assert alice.is_active is False
    assert sessions_of(alice) == 0
    for client in (phone, laptop):
        response = client.get("/chats/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Client().login(username="alice", password=PASSWORD)
    # Everyone else is untouched.
    assert sessions_of(bob) == 1 and other.get("/chats/").status_code == 200


@pytest.mark.django_db
def test_again_on_a_deactivated_account(run_command, alice):
    run_command("deactivate_user", "alice")
    output = run_command("deactivate_user", "alice")
    assert output.strip() == f"alice (id {alice.pk}) was already deactivated: ended 0 login sessions."


@pytest.mark.django_db
def test_cookie_sessions_cannot_be_listed_but_are_refused(run_command, alice, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    client = logged_in_client(alice)
    output = run_command("deactivate_user", "alice")
    assert "cannot be listed; they are refused from now on" in output
    assert client.get("/chats/").status_code == 302


@pytest.mark.django_db(transaction=True)
async def test_tells_the_users_sockets_to_close(run_command, alice, bob):
    """Through the real channel layer, as sockets in any server process hear it."""
    layer = get_channel_layer()
    alice_socket, bob_socket = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(sockets.user_group(alice.pk), alice_socket)
    await layer.group_add(sockets.user_group(bob.pk), bob_socket)
    try:
        await sync_to_async(run_command)("deactivate_user", "alice")
        event = await asyncio.wait_for(layer.receive(alice_socket), timeout=5)
        assert event == {"type": "sockets.close", "except_session": None}
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(bob_socket), timeout=0.3)
        assert (await User.objects.aget(pk=alice.pk)).is_active is False
    finally:
        await layer.group_discard(sockets.user_group(alice.pk), alice_socket)
        await layer.group_discard(sockets.user_group(bob.pk), bob_socket)
        await sync_to_async(connections.close_all)()  # the command's thread keeps its connection otherwise


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "the following arguments are required: username"),
        (["nobody"], "There is no user named 'nobody'."),
        (["alice", "bob"], "unrecognized arguments: bob"),
    ],
)
def test_bad_arguments(run_command, alice, args, error):
    with pytest.raises(CommandError, match=error):
        run_command("deactivate_user", *args)
    alice.refresh_from_db()
    assert alice.is_active


def test_help(command_help):
    assert "USERNAME" in command_help("deactivate_user").upper()
