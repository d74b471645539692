"""Unread that respects what was seen: the rule in one home, the page that opens at the first
unread message and marks only what it rendered, "mark as read", and joined history that starts read."""

import re

import pytest

from accounts import services as account_services
from groups import services as group_services
from groups.models import Membership
from messaging import selectors, services, unread
from messaging.models import ReadState
from messaging.views import UNREAD_CONTEXT
from tests.conftest import send
from tests.messaging import unread_rule

pytestmark = pytest.mark.django_db


def fill(cast, count, *, read=0):
    """`count` messages from the owner in general; the member has read the first `read`."""
    for n in range(1, count + 1):
        send(cast.owner, cast.general, f"message number {n}")
    if read:
        services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=read)


def marker(user, conversation) -> int:
    return unread_rule.read_marker(user, conversation.pk)


def shown_seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<li class="message[^"]*" id="m\d+" data-seq="(\d+)"', html)]


def divider_before(html: str) -> int | None:
    """The seq of the message right after the "New messages" divider, None without a divider."""
    found = re.search(
        r'<li id="unread-divider" class="unread-divider">.*?</li>\s*'
        r'(?:<li class="day-divider"[^>]*>.*?</li>\s*)?'  # when the day starts there too
        r'<li class="message[^"]*" id="m(\d+)"',
        html,
    )
    return int(found.group(1)) if found else None


def sidebar_row(response, conversation):
    return next(c for c in response.context["conversations"] if c.pk == conversation.pk)


# --- one rule -----------------------------------------------------------------------------------


def test_the_sql_and_orm_forms_of_the_rule_agree_with_the_reference(cast, make_user):
    """Others' messages count, your own and deleted ones do not, nor those of a deleted account's
    (they count: someone else's), mentions after the marker count; every user, every marker."""
    leaver = make_user("leaver")
    group_services.member_add(actor=cast.owner, group_id=cast.group.pk, username="leaver")
    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="plans")
    for n in range(3):
        send(cast.owner, cast.general, f"@mia hi {n}")
        send(cast.member, cast.general, f"mine {n}")
        send(leaver, cast.general, f"@all from the leaver {n}")
    gone = send(cast.admin, cast.general, "@mia to be deleted")
    services.message_delete(actor=cast.admin, conversation_id=cast.general.pk, seq=gone.seq)
    send(cast.admin, topic, "topic")
    account_services.user_delete(user=leaver)
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=4)
    services.read_mark(actor=cast.admin, conversation_id=topic.pk, seq=1)
    conversations = [cast.general.pk, topic.pk]
    for user in (cast.owner, cast.admin, cast.member, cast.other_member):
        counts = unread.counts(user, conversations)
        for conversation_id in conversations:
            read_seq = unread_rule.read_marker(user, conversation_id)
            expected = unread_rule.unread_messages(user, conversation_id).order_by("seq").first()
            assert counts[conversation_id] == (
                unread_rule.unread_count(user, conversation_id),
                unread_rule.mention_count(user, conversation_id),
            ), (user.username, conversation_id)
            first = unread.first_unread_seq(user, conversation_id, read_seq=read_seq)
            assert first == (expected.seq if expected else None), (user.username, conversation_id)
            orm = unread.unread_messages(user).filter(conversation_id=conversation_id)  # the ORM form beside the SQL
            assert sorted(orm.values_list("seq", flat=True)) == sorted(
                unread_rule.unread_messages(user, conversation_id).values_list("seq", flat=True)
            )
    assert unread.counts(cast.member, [cast.general.pk])[cast.general.pk][0] > 0
    assert unread.counts(cast.member, []) == {}


# --- the page opens at the first unread message --------------------------------------------------


def test_opening_with_90_unread_shows_the_window_from_the_first_unread_and_marks_only_it(login, cast):
    fill(cast, 100, read=10)
    client = login(cast.member)
    response = client.get(f"/chats/{cast.general.pk}/")
    html = response.content.decode()
    start = 11 - UNREAD_CONTEXT
    assert shown_seqs(html) == list(range(start, start + 50))
    assert divider_before(html) == 11 and html.count(">New messages<") == 1
    assert '<li class="message" id="m11"' in html  # "New messages" starts a run of the author's messages
    assert '<li class="message continued" id="m12"' in html
    assert 'data-live="false"' in html
    assert f'href="?before={start}"' in html and f'href="?after={start + 49}"' in html
    # Read up to the last message rendered, never beyond: the 90 are not all read.
    assert marker(cast.member, cast.general) == start + 49
    assert sidebar_row(response, cast.general).unread == 100 - (start + 49)

    newer = client.get(f"/chats/{cast.general.pk}/?after={start + 49}")  # the no-JS "Newer messages" link
    assert shown_seqs(newer.content.decode()) == list(range(start + 50, 101))
    assert marker(cast.member, cast.general) == 100
    assert sidebar_row(newer, cast.general).unread == 0

    latest = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert shown_seqs(latest) == list(range(51, 101)) and divider_before(latest) is None
    assert 'data-live="true"' in latest


def test_jump_to_the_latest_skips_the_unread_window(login, cast):
    fill(cast, 100, read=10)
    client = login(cast.member)
    window = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'href="/chats/{cast.general.pk}/?latest=1">Jump to the latest</a>' in window
    latest = client.get(f"/chats/{cast.general.pk}/?latest=1").content.decode()
    assert shown_seqs(latest) == list(range(51, 101)) and divider_before(latest) is None
    assert 'data-live="true"' in latest


@pytest.mark.parametrize("value", ["", "0", "2", "yes", "true", " 1", "\uff11", "9" * 20])
def test_latest_takes_only_1_and_anything_else_is_400_as_a_malformed_before_is(login, cast, value):
    fill(cast, 100, read=10)
    client = login(cast.member)
    response = client.get(f"/chats/{cast.general.pk}/", {"latest": value})
    assert response.status_code == 400
    assert "latest must be 1" in response.content.decode()
    assert marker(cast.member, cast.general) == 10  # nothing was shown, nothing read
    assert client.get(f"/chats/{cast.general.pk}/", {"latest": "1"}).status_code == 200


def test_a_reply_from_the_unread_window_lands_on_the_latest_page_with_it(login, cast):
    fill(cast, 100, read=10)
    client = login(cast.member)
    client.get(f"/chats/{cast.general.pk}/")
    response = client.post(f"/chats/{cast.general.pk}/", {"body": "catching up"})
    assert response.status_code == 302 and response["Location"] == f"/chats/{cast.general.pk}/?latest=1"
    assert shown_seqs(client.get(response["Location"]).content.decode())[-1] == 101


def test_a_few_unread_open_at_the_divider_on_a_page_that_is_live(login, cast):
    fill(cast, 60, read=55)
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert shown_seqs(html) == list(range(56 - UNREAD_CONTEXT, 61))
    assert divider_before(html) == 56 and 'data-live="true"' in html
    assert 'class="messages-scroll from-top"' in html  # no-JS: the top of the window, not the bottom
    assert f'href="?before={56 - UNREAD_CONTEXT}"' in html and "?after=" not in html
    assert marker(cast.member, cast.general) == 60


def test_with_scripts_the_page_leaves_the_marker_to_them(login, cast):
    """static/js/app.js sets the cookie: the page's script reports what scrolls into view instead."""
    fill(cast, 90)
    client = login(cast.member)
    client.cookies["chat_js"] = "1"
    response = client.get(f"/chats/{cast.general.pk}/")
    assert divider_before(response.content.decode()) == 1
    assert marker(cast.member, cast.general) == 0
    assert sidebar_row(response, cast.general).unread == 90


def test_the_first_unread_skips_your_own_and_deleted_messages(login, cast):
    send(cast.owner, cast.general, "read")
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=1)
    send(cast.member, cast.general, "my own")
    gone = send(cast.owner, cast.general, "deleted")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=gone.seq)
    send(cast.admin, cast.general, "the first unread")
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert divider_before(html) == 4


def test_nothing_unread_no_divider(login, cast):
    send(cast.member, cast.general, "only my own")
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert shown_seqs(html) == [1] and divider_before(html) is None


def test_older_pages_never_move_the_marker_back_and_around_marks_its_window_only(login, cast):
    fill(cast, 100, read=60)
    client = login(cast.member)
    client.get(f"/chats/{cast.general.pk}/?before=30")
    assert marker(cast.member, cast.general) == 60
    html = client.get(f"/chats/{cast.general.pk}/?around=70").content.decode()
    shown = shown_seqs(html)
    assert divider_before(html) is None  # a search result opens at the result, not at the first unread
    assert marker(cast.member, cast.general) == shown[-1] < 100


# --- mark as read ---------------------------------------------------------------------------------


def test_mark_as_read_reads_the_whole_conversation_without_js(login, cast):
    fill(cast, 90)
    client = login(cast.member)
    page = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'action="/chats/{cast.general.pk}/read/"' in page and 'action="/chats/read/"' in page
    response = client.post(f"/chats/{cast.general.pk}/read/")
    assert response.status_code == 302 and response["Location"] == f"/chats/{cast.general.pk}/"
    assert marker(cast.member, cast.general) == 90
    json = client.post(f"/chats/{cast.general.pk}/read/", headers={"accept": "application/json"})
    assert json.json() == {"conversation": cast.general.pk, "seq": 90}


def test_mark_as_read_is_refused_like_a_missing_conversation(login, cast, client):
    fill(cast, 3)
    assert login(cast.outsider).post(f"/chats/{cast.general.pk}/read/").status_code == 404
    assert login(cast.outsider).post("/chats/999999/read/").status_code == 404
    assert login(cast.member).get(f"/chats/{cast.general.pk}/read/").status_code == 405
    anonymous = client.post(f"/chats/{cast.general.pk}/read/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert not ReadState.objects.filter(user__in=[cast.outsider, cast.member]).exists()  # nothing changed


def test_mark_all_as_read_reads_every_conversation(login, cast):
    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="plans")
    direct, _ = services.direct_open(actor=cast.owner, username=cast.member.username)
    fill(cast, 5)
    send(cast.owner, topic, "@mia plans")
    send(cast.owner, direct, "psst")
    services.direct_open(actor=cast.member, username=cast.admin.username)  # empty: nothing to mark
    client = login(cast.member)
    response = client.post("/chats/read/", {"next": f"/chats/{topic.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/chats/{topic.pk}/"
    rows = selectors.conversations_for_user(cast.member)
    assert [(r.unread, r.mentions) for r in rows] == [(0, 0)] * len(rows)
    assert {(r.pk, r.read_seq) for r in rows if r.last_seq} == {(cast.general.pk, 5), (topic.pk, 1), (direct.pk, 1)}
    assert client.post("/chats/read/", {"next": "https://elsewhere.example/"})["Location"] == "/chats/"
    send(cast.owner, cast.general, "one more")
    answer = client.post("/chats/read/", headers={"accept": "application/json"})
    assert answer.json() == {"conversations": [cast.general.pk]}


# --- joined history starts read --------------------------------------------------------------------


def test_history_from_before_joining_starts_read_on_every_path(cast, make_user, settings, login):
    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="plans")
    services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="empty")
    fill(cast, 40)
    send(cast.owner, topic, "plans")
    cast.group.is_public = True
    cast.group.save()
    added, joiner, invited, staffed = (make_user(name) for name in ("added", "joiner", "invited", "staffed"))
    settings.DEFAULT_GROUPS = ["Team"]
    group_services.member_add(actor=cast.owner, group_id=cast.group.pk, username="added")
    group_services.group_join(actor=joiner, group_id=cast.group.pk)
    _invite, token = group_services.invite_create(actor=cast.owner, group_id=cast.group.pk, expires="7d")
    group_services.invite_accept(actor=invited, token=token)
    group_services.memberships_staff_save(
        group=cast.group, deleted=[], saved=[Membership(group=cast.group, user=staffed, role="member")]
    )
    by_default = account_services.user_create(username="newcomer", email="n@example.com", password="a long phrase")
    for user in (added, joiner, invited, staffed, by_default):
        rows = {r.pk: r for r in selectors.conversations_for_user(user) if r.group_id == cast.group.pk}
        assert {pk: (r.read_seq, r.unread) for pk, r in rows.items() if r.last_seq} == {
            cast.general.pk: (40, 0),
            topic.pk: (1, 0),
        }, user.username
    send(cast.owner, cast.general, "after they joined")
    assert unread.counts(added, [cast.general.pk]) == {cast.general.pk: (1, 0)}
    html = login(added).get(f"/chats/{cast.general.pk}/").content.decode()
    assert divider_before(html) == 41
