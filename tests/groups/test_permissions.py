"""Every group endpoint against every actor: anonymous, outsider, member, admin, owner.

Allowed requests must change exactly what they promise; refused ones must change nothing
(membership rows, roles, name, existence).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client

from groups.models import Group, Membership
from messaging.models import Conversation
from tests.conftest import Cast, client_for
from tests.groups.conftest import roles, snapshot

ACTORS = ["anonymous", "outsider", "member", "admin", "owner"]
LOGIN = "login"  # anonymous: redirected to the login page


def user_of(cast: Cast, actor: str):
    return None if actor == "anonymous" else getattr(cast, actor)


def owners(group_id: int) -> list[str]:
    return list(Membership.objects.filter(group_id=group_id, role="owner").values_list("user__username", flat=True))


def added_newcomer(cast, actor_user):
    assert roles(cast.group.pk)["nick"] == "member"


def removed(username: str) -> Callable:
    def check(cast, actor_user):
        assert username not in roles(cast.group.pk)
        assert len(roles(cast.group.pk)) == 4

    return check


def role_became(username: str, role: str) -> Callable:
    def check(cast, actor_user):
        assert roles(cast.group.pk)[username] == role

    return check


def renamed(cast, actor_user):
    cast.group.refresh_from_db()
    assert (cast.group.name, cast.group.description) == ("Renamed", "New words")


def transferred(cast, actor_user):
    assert owners(cast.group.pk) == ["max"]
    assert roles(cast.group.pk)["olivia"] == "admin"


def deleted(cast, actor_user):
    assert not Group.objects.filter(pk=cast.group.pk).exists()
    assert not Conversation.objects.filter(group_id=cast.group.pk).exists()
    assert not Membership.objects.filter(group_id=cast.group.pk).exists()


def left(cast, actor_user):
    assert actor_user.username not in roles(cast.group.pk)
    assert len(roles(cast.group.pk)) == 4


@dataclass
class Case:
    id: str
    method: str
    path: str
    data: dict
    expect: dict  # actor -> status, for outsider, member, admin, owner
    changed: Callable | None = None
    next_url: str | None = None  # where a success redirects (default: the group page)
    anonymous: object = field(default=LOGIN)


CASES = [
    Case("page", "get", "/groups/{g}/", {}, {"outsider": 404, "member": 200, "admin": 200, "owner": 200}),
    Case(
        "add-member",
        "post",
        "/groups/{g}/members/",
        {"username": "nick"},
        {"outsider": 404, "member": 403, "admin": 302, "owner": 302},
        added_newcomer,
    ),
    Case(
        "remove-member",
        "post",
        "/groups/{g}/members/max/remove/",
        {},
        {"outsider": 404, "member": 403, "admin": 302, "owner": 302},
        removed("max"),
    ),
    Case(
        "remove-admin",
        "post",
        "/groups/{g}/members/ada/remove/",
        {},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 302},
        removed("ada"),
    ),
    Case(
        # The owner removing themselves is bad input (use Leave); nobody else may remove the owner.
        "remove-owner",
        "post",
        "/groups/{g}/members/olivia/remove/",
        {},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 400},
    ),
    Case(
        "promote-member",
        "post",
        "/groups/{g}/members/max/role/",
        {"role": "admin"},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 302},
        role_became("max", "admin"),
    ),
    Case(
        "demote-admin",
        "post",
        "/groups/{g}/members/ada/role/",
        {"role": "member"},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 302},
        role_became("ada", "member"),
    ),
    Case(
        "demote-owner",
        "post",
        "/groups/{g}/members/olivia/role/",
        {"role": "member"},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 403},
    ),
    Case(
        "edit",
        "post",
        "/groups/{g}/edit/",
        {"name": "Renamed", "description": "New words"},
        {"outsider": 404, "member": 403, "admin": 302, "owner": 302},
        renamed,
    ),
    Case(
        "transfer",
        "post",
        "/groups/{g}/transfer/",
        {"username": "max"},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 302},
        transferred,
    ),
    Case(
        "delete-confirm", "get", "/groups/{g}/delete/", {}, {"outsider": 404, "member": 403, "admin": 403, "owner": 200}
    ),
    Case(
        "delete",
        "post",
        "/groups/{g}/delete/",
        {},
        {"outsider": 404, "member": 403, "admin": 403, "owner": 302},
        deleted,
        next_url="/chats/",
    ),
    Case(
        "leave",
        "post",
        "/groups/{g}/leave/",
        {},
        {"outsider": 404, "member": 302, "admin": 302, "owner": 403},
        left,
        next_url="/chats/",
    ),
]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_every_endpoint_for_every_actor(cast, case: Case, actor: str):
    path = case.path.format(g=cast.group.pk)
    before = snapshot(cast.group.pk)
    actor_user = user_of(cast, actor)

    response = getattr(client_for(actor_user), case.method)(path, case.data)

    expected = case.anonymous if actor == "anonymous" else case.expect[actor]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    else:
        assert response.status_code == expected, response.content.decode()[:2000]
    if expected == 302:
        assert response["Location"] == (case.next_url or f"/groups/{cast.group.pk}/")
        case.changed(cast, actor_user)
    else:
        assert snapshot(cast.group.pk) == before


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_missing_group_is_the_same_404_as_someone_elses(cast, case: Case):
    """A group id that does not exist and one the user is not in answer alike, so ids leak nothing."""
    missing = Group.objects.order_by("-pk").values_list("pk", flat=True).first() + 1000
    owner = client_for(cast.owner)
    outsider = client_for(cast.outsider)

    not_there = getattr(owner, case.method)(case.path.format(g=missing), case.data)
    not_yours = getattr(outsider, case.method)(case.path.format(g=cast.group.pk), case.data)

    assert not_there.status_code == not_yours.status_code == 404
    assert b"does not exist or you are not a member" in not_there.content
    assert b"does not exist or you are not a member" in not_yours.content
    assert b"Team" not in not_yours.content


def test_huge_group_id_is_404_not_a_crash(cast):
    response = client_for(cast.owner).get(f"/groups/{10**30}/")
    assert response.status_code == 404


# Delete, leave and remove answer GET with their confirmation page.
CONFIRMED = ("delete", "leave", "remove-member", "remove-admin", "remove-owner")
POST_ONLY = [case for case in CASES if case.method == "post" and case.id not in CONFIRMED]


@pytest.mark.parametrize("case", POST_ONLY, ids=lambda case: case.id)
def test_get_on_a_post_only_endpoint_is_405_and_changes_nothing(cast, case: Case):
    before = snapshot(cast.group.pk)
    response = client_for(cast.owner).get(case.path.format(g=cast.group.pk), case.data)
    assert response.status_code == 405
    assert snapshot(cast.group.pk) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.method == "post"], ids=lambda case: case.id)
def test_posts_without_csrf_token_are_refused(cast, case: Case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner if case.expect["owner"] == 302 else cast.member)
    before = snapshot(cast.group.pk)
    response = client.post(case.path.format(g=cast.group.pk), case.data)
    assert response.status_code == 403
    assert snapshot(cast.group.pk) == before


@pytest.mark.parametrize("actor", ACTORS)
def test_anyone_logged_in_can_create_a_group(cast, actor: str):
    client = client_for(user_of(cast, actor))
    page = client.get("/groups/new/")
    response = client.post("/groups/new/", {"name": f"By {actor}", "members": "nick"})
    if actor == "anonymous":
        assert page.status_code == response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
        assert not Group.objects.filter(name=f"By {actor}").exists()
        return
    assert page.status_code == 200
    assert response.status_code == 302
    group = Group.objects.get(name=f"By {actor}")
    assert roles(group.pk) == {user_of(cast, actor).username: "owner", "nick": "member"}
