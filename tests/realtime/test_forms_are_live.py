"""Messages, edits and deletions made through the HTML forms reach open sockets like socket frames do."""

import pytest
from django.test import Client

from messaging.models import Message
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


async def test_form_send_edit_and_delete_are_delivered_live(connect, team):
    alice_form = Client()
    await call(alice_form.force_login)(team.alice)
    bob, carol = await connect(team.bob), await connect(team.carol)
    base = f"/chats/{team.general.pk}"

    response = await call(alice_form.post)(f"{base}/", {"body": "from the form"})
    assert response.status_code == 302
    new = await bob.expect("message.new")
    stored = await call(Message.objects.get)(conversation=team.general, seq=1)
    assert (new["message"]["seq"], new["message"]["body"], new["message"]["id"]) == (1, "from the form", stored.pk)
    assert (await bob.expect("unread"))["count"] == 1

    response = await call(alice_form.post)(f"{base}/messages/1/edit/", {"body": "edited in the form"})
    assert response.status_code == 302
    edited = await bob.expect("message.edited")
    assert edited["message"]["body"] == "edited in the form" and edited["message"]["edited_at"]

    response = await call(alice_form.post)(f"{base}/messages/1/delete/")
    assert response.status_code == 302
    deleted = await bob.expect("message.deleted")
    assert (deleted["message"]["seq"], deleted["message"]["deleted"], deleted["message"]["body"]) == (1, True, "")
    assert (await bob.expect("unread"))["count"] == 0  # the deleted message no longer counts

    # A refused form post sends nothing; an outsider's socket never hears any of it.
    response = await call(alice_form.post)(f"{base}/", {"body": "   "})
    assert response.status_code == 400
    assert await bob.nothing()
    assert await carol.nothing()
