"""Finding people by name: accounts.selectors, the rules every people page and picker shares."""

import pytest

from accounts import selectors
from accounts.models import User
from accounts.services import user_deactivate, user_update_profile
from chatsite.errors import Invalid, NotFound


def usernames(query: str) -> list[str]:
    return [user.username for user in selectors.people_search(query)]


@pytest.mark.parametrize(
    "query",
    ["grace", "GRACE", "gra", "hop", "Hopper", "grace hop", "hop gra", "@grace", "grace.hopper", "  grace   hopper "],
)
def test_username_and_display_name_match_by_the_start_of_any_word_in_any_case(grace, alice, query):
    assert usernames(query) == ["grace.hopper"]


@pytest.mark.parametrize("query", ["zoe", "ZOË", "odeg", "ÖDEGAARD", "zoe od", "Zoe Ödeg"])
def test_accents_are_ignored_on_both_sides(zoe, query):
    assert usernames(query) == ["zoe"]


@pytest.mark.parametrize("query", ["race", "opper", "grace x", "navy", "grace@navy.example", "example"])
def test_the_middle_of_a_word_and_email_addresses_do_not_match(grace, query):
    assert usernames(query) == []


def test_deactivated_people_are_never_found(grace):
    user_deactivate(user=grace)
    assert usernames("grace") == []
    with pytest.raises(NotFound):
        selectors.user_by_name("grace.hopper")


def test_a_changed_display_name_is_found_by_its_new_words_only(grace):
    user_update_profile(user=grace, display_name="Amazing Grace")
    assert usernames("amazing") == ["grace.hopper"]
    assert usernames("hopper") == ["grace.hopper"]  # still a word of the username
    user_update_profile(user=grace, display_name="Rear Admiral")
    assert usernames("amazing") == []
    assert User.objects.get(pk=grace.pk).search_name.startswith(" rear admiral ")


def test_everyone_active_without_a_query_ordered_by_shown_name(make_user):
    make_user("zed", display_name="Aaron")
    make_user("bob")
    make_user("mia", display_name="Zora")
    assert usernames("") == ["zed", "bob", "mia"]


def test_user_by_name_prefers_the_username_then_a_unique_display_name(grace, zoe, make_user):
    assert selectors.user_by_name("GRACE.HOPPER") == grace
    assert selectors.user_by_name("@grace.hopper") == grace
    assert selectors.user_by_name("  grace   HOPPER ") == grace
    assert selectors.user_by_name("zoe odegaard") == zoe
    with pytest.raises(NotFound, match="There is no user named “grace”"):
        selectors.user_by_name("grace")  # a prefix is a search, not a name
    # A username wins over someone else's display name.
    make_user("impostor", display_name="zoe")
    assert selectors.user_by_name("zoe") == zoe


def test_a_display_name_two_people_share_asks_for_the_username(grace, make_user):
    make_user("ghopper", display_name="Grace Hopper")
    with pytest.raises(selectors.Ambiguous, match="Enter their username"):
        selectors.user_by_name("Grace Hopper")
    assert selectors.user_by_name("ghopper").username == "ghopper"
    # Narrowed to some people (a group's members), the name is no longer ambiguous.
    assert selectors.user_by_name("grace hopper", among=User.objects.filter(username="ghopper")).username == "ghopper"


def test_members_entries_resolve_display_names_and_spaced_usernames(grace, alice, bob, carol):
    found = selectors.users_by_names(["Grace Hopper", "bob carol", "alice", "BOB"])
    assert [user.username for user in found] == ["grace.hopper", "bob", "carol", "alice"]
    with pytest.raises(Invalid, match=r"No such user: ghost, Phantom\.") as error:
        selectors.users_by_names(["bob ghost", "Phantom carol"])
    assert error.value.code == "unknown_users"
