"""Invite links: owners and admins make, list and revoke them; anyone holding a valid one joins."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import Invite
from tests.conftest import client_for
from tests.groups.conftest import roles, snapshot


def _create(client, group_id: int, **fields):
    data = {"expires": "7d", "max_uses": "", "email": "", **fields}
    return client.post(f"/groups/{group_id}/invites/", data)


def _link(response) -> str:
    (link,) = re.findall(r'id="new-invite-link" value="([^"]+)"', response.content.decode())
    return link.removeprefix("http://testserver")


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owners_and_admins_create_a_link_shown_once_and_stored_hashed(cast, who):
    manager = client_for(getattr(cast, who))
    response = _create(manager, cast.group.pk, expires="1d", max_uses="3")
    assert response.status_code == 201
    link = _link(response)
    token = link.strip("/").rsplit("/", 1)[1]
    assert len(token) >= 32
    invite = Invite.objects.get()
    assert token not in invite.token_hash and invite.token_hash != token
    assert invite.max_uses == 3
    assert timedelta(hours=23) < invite.expires_at - timezone.now() <= timedelta(days=1)
    page = manager.get(f"/groups/{cast.group.pk}/invites/").content.decode()
    assert token not in page  # listed with its counts, never with its link again
    assert "0 / 3" in page


def test_expiry_choices(cast):
    owner = client_for(cast.owner)
    _create(owner, cast.group.pk, expires="7d")
    _create(owner, cast.group.pk, expires="never")
    seven, never = Invite.objects.order_by("pk")
    assert timedelta(days=6, hours=23) < seven.expires_at - timezone.now() <= timedelta(days=7)
    assert never.expires_at is None
    assert _create(owner, cast.group.pk, expires="forever").status_code == 400
    assert _create(owner, cast.group.pk, max_uses="0").status_code == 400
    assert _create(owner, cast.group.pk, max_uses="many").status_code == 400
    assert Invite.objects.count() == 2


@pytest.mark.parametrize("who", ["member", "outsider"])
def test_members_and_outsiders_cannot_see_or_make_links(cast, who):
    client = client_for(getattr(cast, who))
    expected = 403 if who == "member" else 404
    assert client.get(f"/groups/{cast.group.pk}/invites/").status_code == expected
    assert _create(client, cast.group.pk).status_code == expected
    assert Invite.objects.count() == 0


def test_anonymous_is_sent_to_log_in(cast, client):
    response = client.get(f"/groups/{cast.group.pk}/invites/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_link_shows_the_group_and_joining_adds_the_member(cast):
    link = _link(_create(client_for(cast.owner), cast.group.pk))
    newcomer = client_for(cast.newcomer)
    page = newcomer.get(link)
    assert page.status_code == 200
    assert "Team" in page.content.decode() and "Join Team" in page.content.decode()
    response = newcomer.post(link)
    assert response.status_code == 302
    assert response["Location"].startswith("/chats/")
    assert roles(cast.group.pk)["nick"] == "member"
    assert Invite.objects.get().uses == 1
    assert newcomer.get(response["Location"]).status_code == 200


def test_anonymous_visitors_are_offered_sign_up_and_log_in_that_come_back(cast, client):
    link = _link(_create(client_for(cast.owner), cast.group.pk))
    page = client.get(link).content.decode()
    assert f'href="/accounts/signup/?next={link.replace("/", "%2F")}"' in page
    assert f'href="/accounts/login/?next={link.replace("/", "%2F")}"' in page
    before = snapshot(cast.group.pk)
    response = client.post(link)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert snapshot(cast.group.pk) == before


def test_a_member_following_the_link_goes_in_without_using_it(cast):
    link = _link(_create(client_for(cast.owner), cast.group.pk, max_uses="1"))
    response = client_for(cast.member).post(link)
    assert response.status_code == 302
    assert Invite.objects.get().uses == 0


def test_the_use_limit_is_enforced(cast, make_user):
    link = _link(_create(client_for(cast.owner), cast.group.pk, max_uses="1"))
    assert client_for(cast.newcomer).post(link).status_code == 302
    late = client_for(cast.outsider)
    before = snapshot(cast.group.pk)
    assert late.get(link).status_code == 404
    assert "used as many times" in late.get(link).content.decode()
    assert late.post(link).status_code == 404
    assert snapshot(cast.group.pk) == before
    assert Invite.objects.get().uses == 1


def test_an_expired_link_is_refused(cast):
    link = _link(_create(client_for(cast.owner), cast.group.pk, expires="1d"))
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot(cast.group.pk)
    response = client_for(cast.newcomer).post(link)
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    assert snapshot(cast.group.pk) == before


def test_a_revoked_link_is_refused_and_listed_as_revoked(cast):
    owner = client_for(cast.owner)
    link = _link(_create(owner, cast.group.pk))
    invite = Invite.objects.get()
    assert client_for(cast.member).post(f"/groups/{cast.group.pk}/invites/{invite.pk}/revoke/").status_code == 403
    assert owner.post(f"/groups/{cast.group.pk}/invites/{invite.pk}/revoke/").status_code == 302
    before = snapshot(cast.group.pk)
    assert client_for(cast.newcomer).post(link).status_code == 404
    assert snapshot(cast.group.pk) == before
    page = owner.get(f"/groups/{cast.group.pk}/invites/").content.decode()
    assert "revoked" in page


def test_an_invite_of_another_group_cannot_be_revoked_through_this_one(cast, make_user):
    from groups import services

    other = services.group_create(actor=cast.outsider, name="Other")
    services.invite_create(actor=cast.outsider, group_id=other.pk, expires="never")
    invite = Invite.objects.get()
    response = client_for(cast.owner).post(f"/groups/{cast.group.pk}/invites/{invite.pk}/revoke/")
    assert response.status_code == 404
    assert Invite.objects.get().revoked_at is None


def test_a_made_up_token_is_not_found(cast, client):
    assert client.get("/invite/not-a-real-token/").status_code == 404
    assert client_for(cast.newcomer).post("/invite/not-a-real-token/").status_code == 404


def test_invite_by_email_sends_the_link(cast, mailbox):
    owner = client_for(cast.owner)
    response = _create(owner, cast.group.pk, email="friend@example.org")
    assert response.status_code == 201
    (message,) = mailbox.to("friend@example.org")
    assert "Olivia invited you to Team" in message["Subject"]
    (link,) = [link for link in mailbox.links(message) if "/invite/" in link]
    assert link == "http://testserver" + _link(response)
    assert Invite.objects.get().max_uses == 1  # a mailed link is for one person unless a limit is given
    assert "friend@example.org" in owner.get(f"/groups/{cast.group.pk}/invites/").content.decode()
