"""Download my data and delete my account."""

import json

import pytest
from django.test import AsyncClient, Client

from accounts.models import User
from groups import services as group_services
from groups.models import Group, Membership
from messaging import account_data as messaging_account_data
from messaging import services as messaging_services
from messaging.models import Conversation, Message
from messaging.selectors import default_conversation
from messaging.serializers import DELETED_USER, conversation_title, message_json
from tests.accounts.helpers import is_logged_in, login
from tests.conftest import PASSWORD, send

pytestmark = pytest.mark.django_db


def read_export(response) -> dict:
    assert response.status_code == 200
    assert response.streaming
    return json.loads(b"".join(response.streaming_content))


# Download my data ------------------------------------------------------------


def test_export_needs_login_and_get(client, alice):
    response = client.get("/accounts/settings/export/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(alice)
    assert client.post("/accounts/settings/export/").status_code == 405


def test_export_has_profile_memberships_and_every_message_written(alice_client, alice, bob):
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    other = group_services.group_create(actor=bob, name="Bob's", member_usernames=["alice"])
    general = default_conversation(team)
    direct, _ = messaging_services.direct_open(actor=alice, username="bob")
    first = send(alice, general, "hello team")
    send(bob, general, "bob's words are not alice's")
    edited = send(alice, direct, "hi bob")
    messaging_services.message_edit(actor=alice, conversation_id=direct.pk, seq=edited.seq, body="hi bob!")
    gone = send(alice, general, "oops")
    messaging_services.message_delete(actor=alice, conversation_id=general.pk, seq=gone.seq)

    response = alice_client.get("/accounts/settings/export/")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="chatsite-alice-')
    assert response["Content-Disposition"].endswith('.json"')
    data = read_export(response)

    assert data["profile"]["username"] == "alice"
    assert data["profile"]["email"] == "alice@example.com"
    assert data["profile"]["display_name"] == "Alice A."
    assert "password" not in json.dumps(data["profile"])
    assert data["memberships"] == [
        {"group": {"id": team.pk, "name": "Team"}, "role": "owner", "joined_at": data["memberships"][0]["joined_at"]},
        {
            "group": {"id": other.pk, "name": "Bob's"},
            "role": "member",
            "joined_at": data["memberships"][1]["joined_at"],
        },
    ]
    messages = data["messages"]
    assert [(m["conversation"], m["seq"]) for m in messages] == [
        (general.pk, first.seq),
        (direct.pk, edited.seq),
        (general.pk, gone.seq),
    ]
    assert messages[0] == {
        "conversation": general.pk,
        "seq": 1,
        "body": "hello team",
        "created_at": first.created_at.isoformat(),
        "edited_at": None,
        "deleted": False,
    }
    assert messages[1]["body"] == "hi bob!" and messages[1]["edited_at"] is not None
    assert messages[2]["deleted"] is True and messages[2]["body"] == ""
    assert "bob's words" not in json.dumps(data)


def test_export_streams_many_messages_in_pages(alice_client, alice, monkeypatch):
    monkeypatch.setattr(messaging_account_data, "EXPORT_PAGE_SIZE", 3)
    general = default_conversation(group_services.group_create(actor=alice, name="Solo"))
    for n in range(8):
        send(alice, general, f'message {n} with "quotes" and ünïcode ✓')
    response = alice_client.get("/accounts/settings/export/")
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + 3 + 1  # head, three pages of messages, tail
    data = json.loads(b"".join(chunks))
    assert [m["seq"] for m in data["messages"]] == list(range(1, 9))
    assert data["messages"][7]["body"] == 'message 7 with "quotes" and ünïcode ✓'


def test_export_of_a_new_account_is_valid_json(client, make_user):
    client.force_login(make_user("fresh"))
    data = read_export(client.get("/accounts/settings/export/"))
    assert data["memberships"] == [] and data["messages"] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_thread_connections")
async def test_export_streams_under_asgi(make_user):
    """Under ASGI the export is an async iterator, fed a page at a time."""
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user)("asyncuser")
    group = await sync_to_async(group_services.group_create)(actor=user, name="G")
    general = await sync_to_async(default_conversation)(group)
    await sync_to_async(send)(user, general, "over asgi")
    client = AsyncClient()
    await client.aforce_login(user)
    response = await client.get("/accounts/settings/export/")
    assert response.status_code == 200 and response.is_async
    body = b"".join([chunk async for chunk in response.streaming_content])
    assert json.loads(body)["messages"][0]["body"] == "over asgi"


# Delete my account -----------------------------------------------------------


def delete(client, password=PASSWORD, delete_messages=False):
    data = {"password": password}
    if delete_messages:
        data["delete_messages"] = "on"
    return client.post("/accounts/settings/delete/", data)


def test_delete_needs_login_post_and_the_password(client, alice):
    assert client.post("/accounts/settings/delete/", {"password": PASSWORD}).status_code == 302
    client.force_login(alice)
    assert client.get("/accounts/settings/delete/").status_code == 405
    response = delete(client, password="not my password")
    assert response.status_code == 400
    assert "That is not your password. Nothing was deleted." in response.content.decode()
    response = delete(client, password="")
    assert response.status_code == 400
    assert User.objects.filter(pk=alice.pk).exists()
    assert is_logged_in(client)


def test_delete_needs_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert delete(client).status_code == 403
    assert User.objects.filter(pk=alice.pk).exists()


def test_delete_removes_the_account_and_logs_out(client, alice):
    login(client, "alice")
    key = client.cookies["sessionid"].value
    other_device = Client()
    login(other_device, "alice")
    response = delete(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not is_logged_in(client)
    assert not is_logged_in(other_device)
    replay = Client()
    replay.cookies["sessionid"] = key
    assert not is_logged_in(replay)
    assert login(Client(), "alice").status_code == 400
    # The name is free again.
    assert (
        Client()
        .post(
            "/accounts/signup/",
            {"username": "Alice", "email": "alice@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
        .status_code
        == 302
    )


def test_messages_stay_as_deleted_user_by_default(alice_client, alice, bob):
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    general = default_conversation(team)
    direct, _ = messaging_services.direct_open(actor=bob, username="alice")
    kept = send(alice, general, "my words stay")
    in_direct = send(alice, direct, "just between us")
    reply = send(bob, direct, "ok")

    assert delete(alice_client).status_code == 302

    kept.refresh_from_db()
    assert kept.author_id is None and kept.body == "my words stay" and not kept.deleted
    assert message_json(kept)["author"] == DELETED_USER
    # Bob keeps the direct conversation, its history and his reply; it is now with "deleted user".
    direct.refresh_from_db()
    assert direct.user_low_id == bob.pk or direct.user_high_id == bob.pk
    assert None in (direct.user_low_id, direct.user_high_id)
    assert conversation_title(direct, bob) == "deleted user"
    assert list(direct.messages.order_by("seq").values_list("body", "author_id")) == [
        (in_direct.body, None),
        (reply.body, bob.pk),
    ]
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.get("/chats/").status_code == 200


def test_messages_are_deleted_when_ticked(alice_client, alice, bob):
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    general = default_conversation(team)
    mine = [send(alice, general, "first"), send(alice, general, "second")]
    theirs = send(bob, general, "bob stays")

    assert delete(alice_client, delete_messages=True).status_code == 302

    for message in mine:
        message.refresh_from_db()
        assert message.deleted and message.body == "" and message.author_id is None
    theirs.refresh_from_db()
    assert theirs.body == "bob stays" and not theirs.deleted
    assert Message.objects.filter(conversation=general).count() == 3  # seqs stay, gap-free


def test_owned_group_passes_to_the_longest_standing_admin(alice_client, alice, bob, carol, make_user):
    make_user("dave")
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["dave"])
    for user in (carol, bob):  # carol joins before bob
        group_services.member_add(actor=alice, group_id=team.pk, username=user.username)
    for user in (bob, carol):
        group_services.member_set_role(actor=alice, group_id=team.pk, username=user.username, role="admin")

    assert delete(alice_client).status_code == 302

    roles = dict(Membership.objects.filter(group=team).values_list("user__username", "role"))
    assert roles == {"carol": "owner", "bob": "admin", "dave": "member"}


def test_owned_group_passes_to_the_longest_standing_member_without_admins(alice_client, alice, bob, carol):
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["carol"])
    group_services.member_add(actor=alice, group_id=team.pk, username="bob")

    assert delete(alice_client).status_code == 302

    roles = dict(Membership.objects.filter(group=team).values_list("user__username", "role"))
    assert roles == {"carol": "owner", "bob": "member"}
    # The new owner can run the group.
    group_services.group_update(actor=carol, group_id=team.pk, name="Carol's team")


def test_owned_group_with_nobody_else_is_deleted(alice_client, alice, bob):
    alone = group_services.group_create(actor=alice, name="Just me")
    general = default_conversation(alone)
    send(alice, general, "notes to self")
    shared = group_services.group_create(actor=bob, name="Bob's", member_usernames=["alice"])

    assert delete(alice_client).status_code == 302

    assert not Group.objects.filter(pk=alone.pk).exists()
    assert not Conversation.objects.filter(pk=general.pk).exists()
    assert not Message.objects.filter(body="notes to self").exists()
    # A group she only belonged to stays, without her.
    assert list(Membership.objects.filter(group=shared).values_list("user__username", flat=True)) == ["bob"]


def test_direct_conversation_goes_when_both_sides_are_deleted(client, alice, bob):
    direct, _ = messaging_services.direct_open(actor=alice, username="bob")
    send(alice, direct, "hi")
    for user in (alice, bob):
        client.force_login(user)
        assert delete(client).status_code == 302
    assert not Conversation.objects.filter(pk=direct.pk).exists()


def test_wrong_password_deletes_nothing(alice_client, alice, bob):
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    general = default_conversation(team)
    message = send(alice, general, "still mine")
    response = delete(alice_client, password="wrong password", delete_messages=True)
    assert response.status_code == 400
    message.refresh_from_db()
    assert message.author_id == alice.pk and message.body == "still mine"
    assert Membership.objects.get(group=team, user=alice).role == "owner"


def test_admin_deletion_hands_groups_over_too(client, make_user, alice, bob):
    root = make_user("root")
    root.is_staff = root.is_superuser = True
    root.save()
    team = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    client.force_login(root)
    response = client.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists()
    assert Membership.objects.get(group=team, user=bob).role == "owner"
