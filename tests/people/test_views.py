"""/people/, /people/search/ and /people/<username>/: no-JS pages, JSON, throttling, and no email leaks."""

import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import user_deactivate, user_update_profile
from groups import services as group_services
from messaging import services as messaging_services
from messaging.selectors import default_conversation


@pytest.fixture
def viewer(make_user):
    """Verified, so the page's "check your inbox" banner (which shows the viewer's own address) is not there."""
    user = make_user("viewer", display_name="Val Viewer", email="viewer@private.example")
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return user


@pytest.fixture
def viewer_client(viewer):
    client = Client()
    client.force_login(viewer)
    return client


def assert_no_email(body: str, *users) -> None:
    assert "@private.example" not in body and "@navy.example" not in body and "@secret.example" not in body
    for user in users:
        assert user.email not in body


# --- anonymous -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/people/", "/people/?q=gr", "/people/grace.hopper/"])
def test_pages_send_anonymous_visitors_to_log_in(client, grace, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_search_answers_anonymous_callers_401_json(client, grace):
    response = client.get("/people/search/?q=gr")
    assert response.status_code == 401
    assert response.json() == {"error": "not_authenticated", "detail": "Log in first."}


# --- directory -----------------------------------------------------------------------------------


def test_directory_lists_matches_with_profile_links_and_no_email(viewer_client, viewer, grace, zoe, alice):
    response = viewer_client.get("/people/", {"q": "ODEG"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/people/zoe/"' in body and "Zoë Ödegaard" in body and "@zoe" in body
    assert "grace.hopper" not in body and "/people/alice/" not in body
    assert 'name="q" value="ODEG"' in body  # the box keeps what was typed (a GET form: works without JS)
    assert_no_email(body, viewer, grace, zoe, alice)


def test_directory_without_a_query_lists_everyone_active(viewer_client, viewer, grace, zoe, bob):
    user_deactivate(user=bob)
    body = viewer_client.get("/people/").content.decode()
    for username in ("viewer", "grace.hopper", "zoe"):
        assert f'href="/people/{username}/"' in body
    assert "/people/bob/" not in body


def test_directory_is_paginated_keeping_the_query(viewer_client, make_user, settings):
    settings.PEOPLE_PAGE_SIZE = 2
    for n in range(5):
        make_user(f"sam{n}", display_name=f"Sam {n}")
    first = viewer_client.get("/people/", {"q": "sam"}).content.decode()
    assert first.count('href="/people/sam') == 2
    assert "Page 1 of 3" in first and 'href="?q=sam&amp;page=2"' in first
    last = viewer_client.get("/people/", {"q": "sam", "page": "3"}).content.decode()
    assert last.count('href="/people/sam') == 1 and 'href="/people/sam4/"' in last
    # A page out of range or not a number shows a page anyway, not an error.
    assert viewer_client.get("/people/", {"q": "sam", "page": "99"}).status_code == 200
    assert viewer_client.get("/people/", {"q": "sam", "page": "x"}).status_code == 200


def test_directory_query_count_does_not_grow_with_the_page(viewer_client, make_user, django_assert_max_num_queries):
    for n in range(30):
        make_user(f"pat{n}")
    with django_assert_max_num_queries(5):  # session, user, count, page (and a savepoint-free margin)
        assert viewer_client.get("/people/", {"q": "pat"}).status_code == 200


# --- search JSON ---------------------------------------------------------------------------------


def test_search_answers_ids_usernames_display_names_and_pictures_only(viewer_client, grace, zoe):
    response = viewer_client.get("/people/search/", {"q": "grace hop"})
    assert response.status_code == 200
    assert response.json() == {
        "people": [{"id": grace.pk, "username": "grace.hopper", "display_name": "Grace Hopper", "avatar_url": None}]
    }
    assert_no_email(response.content.decode(), grace)


def test_search_blank_query_is_empty_and_limit_caps_the_answer(viewer_client, make_user):
    for n in range(25):
        make_user(f"kim{n}")
    assert viewer_client.get("/people/search/", {"q": "  "}).json() == {"people": []}
    assert len(viewer_client.get("/people/search/", {"q": "kim"}).json()["people"]) == 10
    assert len(viewer_client.get("/people/search/", {"q": "kim", "limit": "3"}).json()["people"]) == 3
    assert len(viewer_client.get("/people/search/", {"q": "kim", "limit": "20"}).json()["people"]) == 20


@pytest.mark.parametrize("limit", ["0", "21", "-1", "x", "1.5", "٣", "9" * 5000])
def test_search_refuses_a_bad_limit_with_400_json(viewer_client, grace, limit):
    response = viewer_client.get("/people/search/", {"q": "gr", "limit": limit})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"


# --- throttling ----------------------------------------------------------------------------------


def test_lookups_are_throttled_per_user_across_pages_and_search(viewer_client, viewer, grace, make_user, settings):
    settings.PEOPLE_LOOKUP_LIMIT = 3
    assert viewer_client.get("/people/search/", {"q": "g"}).status_code == 200
    assert viewer_client.get("/people/", {"q": "g"}).status_code == 200
    assert viewer_client.get("/people/grace.hopper/").status_code == 200

    json_refused = viewer_client.get("/people/search/", {"q": "gr"})
    assert json_refused.status_code == 429
    assert json_refused.json()["error"] == "rate_limited"
    assert 1 <= int(json_refused["Retry-After"]) <= settings.PEOPLE_LOOKUP_WINDOW + 1
    page_refused = viewer_client.get("/people/", {"q": "gra"})
    assert page_refused.status_code == 429
    assert "Too many people lookups" in page_refused.content.decode()
    assert "Grace Hopper" not in page_refused.content.decode()
    assert viewer_client.get("/people/grace.hopper/").status_code == 429

    # The budget is per user: someone else still gets answers.
    other = Client()
    other.force_login(make_user("other"))
    assert other.get("/people/search/", {"q": "gr"}).json()["people"][0]["username"] == "grace.hopper"


# --- profile -------------------------------------------------------------------------------------


def test_profile_shows_name_username_shared_groups_and_a_message_button(viewer_client, viewer, grace, alice):
    shared = group_services.group_create(actor=viewer, name="Compilers", member_usernames=["grace.hopper"])
    group_services.group_create(actor=grace, name="Navy only", member_usernames=["alice"])
    response = viewer_client.get("/people/GRACE.HOPPER/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Grace Hopper" in body and "@grace.hopper" in body
    assert f'href="/groups/{shared.pk}/">Compilers</a>' in body
    assert "Navy only" not in body  # not a group the viewer is in
    assert 'action="/dm/grace.hopper/"' in body and 'method="post"' in body
    assert "Local time" not in body  # no time zone set
    assert_no_email(body, viewer, grace)


def test_profile_shows_the_local_time_in_their_time_zone(viewer_client, grace):
    user_update_profile(user=grace, display_name=grace.display_name, time_zone="Asia/Tokyo")
    body = viewer_client.get("/people/grace.hopper/").content.decode()
    tokyo = timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert "Local time:" in body and "(Asia/Tokyo)" in body
    assert "+09:00" in body  # the <time datetime> carries the zone's offset
    assert tokyo.strftime("%H:") in body


def test_your_own_profile_has_no_message_button(viewer_client, viewer):
    body = viewer_client.get("/people/viewer/").content.decode()
    assert "(you)" in body and "/dm/viewer/" not in body


@pytest.mark.parametrize("username", ["nobody", "bob"])
def test_unknown_and_deactivated_profiles_are_404(viewer_client, bob, username):
    user_deactivate(user=bob)
    assert viewer_client.get(f"/people/{username}/").status_code == 404


def test_the_message_button_opens_the_direct_conversation(viewer_client, grace):
    response = viewer_client.post("/dm/grace.hopper/")
    assert response.status_code == 302 and response["Location"].startswith("/chats/")


def test_member_lists_link_names_to_profiles(viewer_client, viewer, grace):
    group = group_services.group_create(actor=viewer, name="Team", member_usernames=["grace.hopper"])
    general = default_conversation(group)
    assert 'href="/people/grace.hopper/">Grace Hopper</a>' in viewer_client.get(f"/groups/{group.pk}/").content.decode()
    page = viewer_client.get(f"/chats/{general.pk}/").content.decode()
    assert 'href="/people/grace.hopper/">Grace Hopper</a>' in page


def test_search_is_not_a_username_anyone_can_take(client, db):
    from tests.conftest import PASSWORD

    data = {"username": "Search", "email": "s@example.com", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 400
    assert "That username is taken." in response.content.decode()


def test_browsing_public_groups_runs_a_constant_number_of_queries(
    viewer_client, viewer, make_user, django_assert_max_num_queries
):
    owner = make_user("owner")
    for n in range(12):
        group_services.group_create(
            actor=owner, name=f"Open {n}", member_usernames=["viewer"] if n % 2 else [], is_public=True
        )
    with django_assert_max_num_queries(4):  # session, user, count, the page with counts and membership
        body = viewer_client.get("/groups/").content.decode()
    assert body.count('/join/"') == 6 and "2 members" in body


def test_a_direct_conversation_links_to_the_other_persons_profile(viewer_client, grace):
    location = viewer_client.post("/dm/grace.hopper/")["Location"]
    assert 'with <a href="/people/grace.hopper/">@grace.hopper</a>' in viewer_client.get(location).content.decode()


def test_search_narrowed_to_a_group_answers_its_members_only(viewer_client, viewer, grace, make_user):
    make_user("gwen", display_name="Gwen")
    group = group_services.group_create(actor=viewer, name="Team", member_usernames=["grace.hopper"])
    answer = viewer_client.get("/people/search/", {"q": "g", "group": str(group.pk)}).json()
    assert [person["username"] for person in answer["people"]] == ["grace.hopper"]
    assert len(viewer_client.get("/people/search/", {"q": "g"}).json()["people"]) == 2


@pytest.mark.parametrize("group", ["someone else's", "missing", "x", "huge"])
def test_search_narrowed_to_a_group_you_are_not_in_is_404(viewer_client, make_user, grace, group):
    theirs = group_services.group_create(actor=grace, name="Theirs")
    group_id = {"someone else's": str(theirs.pk), "missing": str(theirs.pk + 100), "x": "x", "huge": "9" * 5000}[group]
    response = viewer_client.get("/people/search/", {"q": "g", "group": group_id})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_transfer_picker_asks_for_the_groups_members(viewer_client, viewer, grace):
    group = group_services.group_create(actor=viewer, name="Team", member_usernames=["grace.hopper"])
    body = viewer_client.get(f"/groups/{group.pk}/").content.decode()
    assert f'data-people-group="{group.pk}"' in body
    assert body.count("data-people-group=") == 1  # the add-member picker searches everyone


def test_search_for_a_conversation_suggests_only_the_people_who_can_see_it(viewer_client, viewer, make_user):
    """The composer's @-mention suggestions: a group conversation's members, a direct one's two people."""
    make_user("gina"), make_user("gus")
    gail = make_user("gail")
    group = group_services.group_create(actor=viewer, name="Garden", member_usernames=["gina"])
    conversation = default_conversation(group)

    def names(conversation_id, q="g"):
        response = viewer_client.get("/people/search/", {"q": q, "conversation": conversation_id})
        assert response.status_code == 200
        return [person["username"] for person in response.json()["people"]]

    assert names(conversation.pk) == ["gina"]
    direct, _ = messaging_services.direct_open(actor=viewer, username="gus")
    assert names(direct.pk) == ["gus"]
    assert names(direct.pk, q="v") == ["viewer"]
    # Someone else's conversation, a missing one, garbage: the same 404, nobody listed.
    other = default_conversation(group_services.group_create(actor=gail, name="Private", member_usernames=[]))
    for bad in (other.pk, 999999, "x", "9" * 40):
        response = viewer_client.get("/people/search/", {"q": "g", "conversation": bad})
        assert response.status_code == 404 and response.json()["error"] == "not_found"
