"""`/groups/new/`: parsing the members field, unknown usernames, and where success lands."""

import re

import pytest

from groups.forms import parse_member_entries
from groups.models import Group, Membership
from messaging.models import Conversation
from tests.groups.conftest import roles


@pytest.fixture
def people(make_user):
    return {name: make_user(name) for name in ("bob", "carol", "dave")}


def test_the_form_has_labelled_fields(alice_client):
    response = alice_client.get("/groups/new/")
    assert response.status_code == 200
    body = response.content.decode()
    for field in ("name", "description", "members"):
        assert f'name="{field}"' in body
        assert f'<label for="id_{field}">' in body
    assert 'action="/groups/new/"' in body
    assert "csrfmiddlewaretoken" in body


def test_create_makes_the_creator_owner_and_lands_in_the_default_conversation(alice_client, alice, people):
    response = alice_client.post(
        "/groups/new/", {"name": "  Hikers ", "description": "Weekend trips", "members": "bob, carol"}
    )
    group = Group.objects.get()
    general = Conversation.objects.get(group=group)
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{general.pk}/"
    assert (group.name, group.description) == ("Hikers", "Weekend trips")
    assert general.name == "general"
    assert roles(group.pk) == {"alice": "owner", "bob": "member", "carol": "member"}


def test_members_are_split_on_commas_and_lines_and_spaced_usernames_still_work_in_any_letter_case(
    alice_client, alice, people
):
    messy = " BOB,carol\n\t@Dave ,, bob  ALICE "
    response = alice_client.post("/groups/new/", {"name": "Mixed", "members": messy})
    assert response.status_code == 302
    group = Group.objects.get(name="Mixed")
    # The creator named among the members stays the one owner, listed once.
    assert roles(group.pk) == {"alice": "owner", "bob": "member", "carol": "member", "dave": "member"}


def test_a_group_of_one_is_fine(alice_client, alice):
    response = alice_client.post("/groups/new/", {"name": "Notes to self", "members": ""})
    assert response.status_code == 302
    assert roles(Group.objects.get().pk) == {"alice": "owner"}


def test_unknown_usernames_are_named_and_nothing_is_created(alice_client, alice, people):
    response = alice_client.post(
        "/groups/new/", {"name": "Typos", "description": "kept", "members": "bob ghost, Phantom carol"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(r"No such user: ([^<]*)\.<", body)
    assert error is not None
    assert sorted(error.group(1).split(", ")) == ["Phantom", "ghost"]
    # The input is kept for correcting.
    assert 'value="Typos"' in body
    assert 'value="bob ghost, Phantom carol"' in body
    assert ">\nkept</textarea>" in body
    assert not Group.objects.exists()
    assert not Membership.objects.exists()
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "members": "bob"}, "This field is required."),
        ({"name": "   ", "members": "bob"}, "This field is required."),
        ({"name": "x" * 81, "members": ""}, "at most 80 characters"),
        ({"name": "Ok", "description": "d" * 1001}, "at most 1000 characters"),
        ({"name": "Crowd", "members": ", ".join(f"user{i}" for i in range(201))}, "Add at most 200 people"),
    ],
)
def test_bad_input_is_400_with_the_error_and_creates_nothing(alice_client, people, data, message):
    response = alice_client.post("/groups/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Group.objects.exists()


def test_member_entries_split_on_commas_semicolons_and_lines_keeping_spaces_inside_names():
    assert parse_member_entries("Bob, bob;BOB\n carol\n@dave, @ ,  Grace   Hopper ") == [
        "Bob",
        "carol",
        "dave",
        "Grace Hopper",
    ]
    assert parse_member_entries("") == []
    assert parse_member_entries(" ,\n ; ") == []
