"""A new display name reaches every open page that shows it: `user.updated` to everyone who shares a
conversation with that user (once, however many they share) and to the user's own tabs; nobody else."""

import pytest
from django.test import Client

from messaging import services
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


def rename(user, display_name: str, time_zone: str = "") -> int:
    client = Client()
    client.force_login(user)
    response = client.post(
        "/accounts/settings/",
        {"action": "profile", "display_name": display_name, "email": user.email, "time_zone": time_zone},
    )
    return response.status_code


async def test_a_new_display_name_reaches_those_who_share_a_conversation(connect, team, make_user):
    await call(services.topic_create)(actor=team.alice, group_id=team.group.pk, name="second")
    dave = await call(make_user)("dave")
    await call(services.direct_open)(actor=dave, username=team.alice.username)
    bob, dave_tab, carol = await connect(team.bob), await connect(dave), await connect(team.carol)
    alice_tab = await connect(team.alice)

    assert await call(rename)(team.alice, "Alice Liddell") == 302

    expected = {
        "type": "user.updated",
        "user": {"id": team.alice.pk, "username": "alice", "display_name": "Alice Liddell", "avatar_url": None},
    }
    for tab in (bob, dave_tab, alice_tab):  # a group member, a direct contact, her own tab
        assert await tab.expect("user.updated") == expected
        assert await tab.nothing()  # once, though bob shares two conversations with her
    assert await carol.nothing()


async def test_saving_the_same_name_or_only_a_time_zone_sends_nothing(connect, team):
    bob = await connect(team.bob)
    assert await call(rename)(team.alice, team.alice.display_name) == 302
    assert await call(rename)(team.alice, team.alice.display_name, "Europe/Paris") == 302
    assert await bob.nothing()


async def test_a_member_removed_no_longer_hears_of_renames(connect, team):
    from groups import services as group_services

    bob = await connect(team.bob)
    await call(group_services.member_remove)(actor=team.alice, group_id=team.group.pk, username="bob")
    assert (await bob.expect("conversation.removed"))["conversation"] == team.general.pk
    assert await call(rename)(team.alice, "Someone Else") == 302
    assert await bob.nothing()


def set_avatar(user) -> int:
    from tests.messaging.files import image_bytes, upload

    client = Client()
    client.force_login(user)
    return client.post("/accounts/settings/avatar/", {"avatar": upload("me.png", image_bytes())}).status_code


def remove_avatar(user) -> int:
    client = Client()
    client.force_login(user)
    return client.post("/accounts/settings/avatar/", {"action": "remove"}).status_code


async def test_a_new_picture_reaches_those_who_share_a_conversation_with_its_url(connect, team, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    bob, carol, alice_tab = await connect(team.bob), await connect(team.carol), await connect(team.alice)

    assert await call(set_avatar)(team.alice) == 302

    await call(team.alice.refresh_from_db)()
    url = team.alice.avatar_url
    assert url.startswith("/people/alice/avatar/?v=")
    expected = {
        "type": "user.updated",
        "user": {"id": team.alice.pk, "username": "alice", "display_name": "Alice A.", "avatar_url": url},
    }
    for tab in (bob, alice_tab):
        assert await tab.expect("user.updated") == expected
        assert await tab.nothing()
    assert await carol.nothing()

    assert await call(remove_avatar)(team.alice) == 302
    removed = await bob.expect("user.updated")
    assert removed["user"]["avatar_url"] is None
    assert not list(tmp_path.rglob("*.webp"))  # the file went once the removal committed
