"""The conversation list and the conversation page, driven through the test client."""

import re

import pytest

from messaging import services
from messaging.models import Conversation, Message, ReadState
from tests.conftest import send

pytestmark = pytest.mark.django_db

# The same bound at 1 and at 50 items: the pages run a constant number of queries.
LIST_MAX_QUERIES = 3  # session, user, sidebar
# The conversation page: session, user, access check, messages, the originals replies answer, the
# reactions, the attachments (one query for all 50 messages), sidebar, members; the first view after
# new messages also finds the first unread one and moves the read marker (services.read_mark: access
# check, upsert, the counts for `unread`), then counts again for the sidebar row.
PAGE_MAX_QUERIES = 9
PAGE_FIRST_VIEW_MAX_QUERIES = 14


def sidebar_ids(html: str) -> list[int]:
    sidebar = html.split('id="conversation-list"', 1)[1].split("</nav>", 1)[0]
    return [int(i) for i in re.findall(r'class="conversation-row[^"]*" data-conversation-id="(\d+)"', sidebar)]


def shown_seqs(html: str) -> list[int]:
    return [int(s) for s in re.findall(r'<li class="message[^"]*" id="m\d+" data-seq="(\d+)"', html)]


# --- /chats/ ------------------------------------------------------------------------------------


def test_list_anonymous_is_sent_to_login(login):
    response = login(None).get("/chats/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/chats/"


def test_list_empty_has_links_to_start(login, alice):
    response = login(alice).get("/chats/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/groups/new/"' in html and 'href="/dm/"' in html
    assert "No conversations yet" in html
    assert sidebar_ids(html) == []


def test_list_orders_by_activity_with_names_previews_and_unread(login, cast):
    random = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="random")
    direct, _ = services.direct_open(actor=cast.outsider, username=cast.member.username)
    send(cast.owner, cast.general, "first")
    send(cast.admin, cast.general, "second in general")
    send(cast.owner, random, "random talk")
    send(cast.outsider, direct, "psst")
    other_group_conversation = Conversation.objects.exclude(
        pk__in=[cast.general.pk, random.pk, direct.pk]
    ).first()  # none: nobody else has any
    assert other_group_conversation is None

    response = login(cast.member).get("/chats/")
    assert response.status_code == 200
    html = response.content.decode()
    # The group's section, newest first, then the direct messages' section.
    assert sidebar_ids(html) == [random.pk, cast.general.pk, direct.pk]
    rows = {c.pk: c for c in response.context["conversations"]}
    assert (rows[direct.pk].unread, rows[random.pk].unread, rows[cast.general.pk].unread) == (1, 1, 2)
    assert "Team / general" in html and "Team / random" in html and "Nora" in html
    assert "second in general" in html and "psst" in html
    assert 'aria-label="2 unread"' in html


def test_list_unread_skips_own_and_deleted_messages(login, cast):
    send(cast.member, cast.general, "mine")
    gone = send(cast.owner, cast.general, "oops")
    send(cast.owner, cast.general, "kept")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=gone.seq)
    response = login(cast.member).get("/chats/")
    assert [c.unread for c in response.context["conversations"]] == [1]


def test_list_preview_of_deleted_last_message(login, cast):
    message = send(cast.owner, cast.general, "secret")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq)
    html = login(cast.member).get("/chats/").content.decode()
    assert "Message deleted" in html and "secret" not in html


def test_list_preview_is_shortened_to_90_characters(login, cast):
    send(cast.owner, cast.general, "x" * 89 + "yz <&>")
    html = login(cast.member).get("/chats/").content.decode()
    assert f'<span class="conversation-preview">{"x" * 89}…</span>' in html
    send(cast.owner, cast.general, "short <b>one</b>")
    html = login(cast.member).get("/chats/").content.decode()
    assert '<span class="conversation-preview">short &lt;b&gt;one&lt;/b&gt;</span>' in html


def test_list_hides_other_peoples_conversations(login, cast, make_user):
    stranger = make_user("stranger")
    services.direct_open(actor=stranger, username=cast.owner.username)
    html = login(cast.outsider).get("/chats/").content.decode()
    assert sidebar_ids(html) == []


def test_list_is_get_only(login, alice):
    assert login(alice).post("/chats/").status_code == 405


@pytest.mark.parametrize("count", [1, 50])
def test_list_query_count_is_constant(login, cast, count, django_assert_max_num_queries):
    for index in range(count - 1):
        topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name=f"topic {index}")
        send(cast.owner, topic, f"message {index}")
    send(cast.owner, cast.general, "latest")
    client = login(cast.member)
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        response = client.get("/chats/")
    assert len(sidebar_ids(response.content.decode())) == count


# --- /chats/<id>/: who may see it -------------------------------------------------------------


def test_page_anonymous_is_sent_to_login(login, cast):
    response = login(None).get(f"/chats/{cast.general.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_page_refuses_outsider_and_missing_ids_alike(login, cast):
    client = login(cast.outsider)
    assert client.get(f"/chats/{cast.general.pk}/").status_code == 404
    assert client.get("/chats/999999/").status_code == 404
    assert not ReadState.objects.filter(user=cast.outsider).exists()


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_page_for_every_role(login, cast, role):
    send(cast.owner, cast.general, "welcome")
    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="planning")
    response = login(getattr(cast, role)).get(f"/chats/{cast.general.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "welcome" in html
    assert f'href="/groups/{cast.group.pk}/"' in html
    assert f'href="/chats/{topic.pk}/"' in html  # the group's other conversations
    for person in (cast.owner, cast.admin, cast.member, cast.other_member):
        assert f'<li data-user-id="{person.pk}">' in html
    assert f'<li data-user-id="{cast.outsider.pk}">' not in html
    assert '<form id="composer"' in html and 'name="body"' in html and "csrfmiddlewaretoken" in html


def test_page_hooks_for_scripts(login, cast):
    message = send(cast.owner, cast.general, "hi")
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert (
        f'data-conversation-id="{cast.general.pk}" data-last-seq="{message.seq}" data-user-id="{cast.member.pk}"'
        in html
    )
    assert 'data-live="true"' in html and f'data-history-url="/chats/{cast.general.pk}/messages/"' in html
    assert '<ol id="messages"' in html and '<div id="conversation-list"' in html
    assert (
        f'id="m{message.seq}" data-seq="{message.seq}" data-id="{message.pk}" data-author-id="{cast.owner.pk}"' in html
    )
    assert 'data-can-moderate="false"' in html
    assert 'data-can-moderate="true"' in login(cast.admin).get(f"/chats/{cast.general.pk}/").content.decode()


def test_page_shows_author_time_edited_and_deleted(login, cast):
    send(cast.owner, cast.general, "original")
    send(cast.admin, cast.general, "to delete")
    services.message_edit(actor=cast.owner, conversation_id=cast.general.pk, seq=1, body="changed")
    services.message_delete(actor=cast.admin, conversation_id=cast.general.pk, seq=2)
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert "Olivia" in html and "changed" in html and "(edited)" in html and 'class="message-time"' in html
    assert "This message was deleted." in html and "to delete" not in html
    assert shown_seqs(html) == [1, 2]


def test_page_marks_the_conversation_read(login, cast):
    for n in range(3):
        send(cast.owner, cast.general, f"m{n}")
    client = login(cast.member)
    response = client.get(f"/chats/{cast.general.pk}/")
    assert response.status_code == 200
    assert ReadState.objects.get(user=cast.member, conversation=cast.general).last_read_seq == 3
    assert [c.unread for c in response.context["conversations"]] == [0]


def test_page_shows_latest_50_oldest_first_and_pages_back_without_js(login, cast):
    for n in range(1, 61):
        send(cast.owner, cast.general, f"message number {n}")
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=60)  # nothing unread: the latest
    client = login(cast.member)
    html = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert shown_seqs(html) == list(range(11, 61))
    assert 'href="?before=11"' in html

    older = client.get(f"/chats/{cast.general.pk}/?before=11").content.decode()
    assert shown_seqs(older) == list(range(1, 11))
    assert "?before=" not in older  # nothing older
    assert 'href="?after=10"' in older and 'data-live="false"' in older

    newer = client.get(f"/chats/{cast.general.pk}/?after=10").content.decode()
    assert shown_seqs(newer) == list(range(11, 61))
    assert 'href="?before=11"' in newer


def test_page_rejects_bad_paging_params(login, cast):
    client = login(cast.member)
    assert client.get(f"/chats/{cast.general.pk}/?before=abc").status_code == 400
    assert client.get(f"/chats/{cast.general.pk}/?after=-1").status_code == 400


def test_page_seen_by_under_latest_message(login, cast):
    send(cast.member, cast.general, "anyone?")
    services.read_mark(actor=cast.admin, conversation_id=cast.general.pk, seq=1)
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    seen = re.search(r'<p id="seen-by" class="seen">(.*?)</p>', html)
    # Each name marked with its user's id: user.updated renames it live.
    assert seen and seen.group(1) == f'Seen by <span data-user-name="{cast.admin.pk}">Adam</span>'
    # The author's own marker and readers behind the latest message do not count.
    send(cast.owner, cast.general, "newer")
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert '<p id="seen-by" class="seen" hidden>' in html


def test_page_no_seen_by_over_50_members(login, cast, make_user):
    from groups import services as group_services

    for n in range(47):  # 4 members + 47 = 51
        user = make_user(f"extra{n}")
        group_services.member_add(actor=cast.owner, group_id=cast.group.pk, username=user.username)
    send(cast.member, cast.general, "big room")
    services.read_mark(actor=cast.admin, conversation_id=cast.general.pk, seq=1)
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert '<p id="seen-by" class="seen" hidden>' in html


@pytest.mark.parametrize("count", [1, 50])
def test_page_query_count_is_constant(login, cast, make_user, count, django_assert_max_num_queries):
    from groups import services as group_services

    for n in range(count):
        user = make_user(f"member{n}")
        group_services.member_add(actor=cast.owner, group_id=cast.group.pk, username=user.username)
        services.topic_create(actor=cast.owner, group_id=cast.group.pk, name=f"topic {n}")
        services.direct_open(actor=cast.member, username=user.username)
    for n in range(count):
        author = cast.owner if n % 2 else cast.admin
        services.message_send(actor=author, conversation_id=cast.general.pk, body=f"message {n}", reply_to=n or None)
        services.reaction_toggle(actor=cast.owner, conversation_id=cast.general.pk, seq=n + 1, emoji="👍")
        services.read_mark(actor=cast.admin, conversation_id=cast.general.pk, seq=n + 1)
    client = login(cast.member)
    with django_assert_max_num_queries(PAGE_FIRST_VIEW_MAX_QUERIES):
        response = client.get(f"/chats/{cast.general.pk}/")
    assert response.status_code == 200
    assert len(shown_seqs(response.content.decode())) == count
    with django_assert_max_num_queries(PAGE_MAX_QUERIES):
        again = client.get(f"/chats/{cast.general.pk}/")
    assert shown_seqs(again.content.decode()) == shown_seqs(response.content.decode())


# --- POST /chats/<id>/: the composer -------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "admin", "member"])
def test_post_stores_and_redirects(login, cast, role):
    author = getattr(cast, role)
    response = login(author).post(f"/chats/{cast.general.pk}/", {"body": "  hello there  "})
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{cast.general.pk}/?latest=1"
    message = Message.objects.get(conversation=cast.general)
    assert (message.seq, message.body, message.author_id) == (1, "hello there", author.pk)


def test_post_anonymous_and_outsider_change_nothing(login, cast):
    anonymous = login(None).post(f"/chats/{cast.general.pk}/", {"body": "hi"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert login(cast.outsider).post(f"/chats/{cast.general.pk}/", {"body": "hi"}).status_code == 404
    assert login(cast.outsider).post("/chats/999999/", {"body": "hi"}).status_code == 404
    assert not Message.objects.exists()
    cast.general.refresh_from_db()
    assert cast.general.last_seq == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "Write something"), ("   \n ", "Write something"), ("x" * 4001, "at most 4000 characters")],
)
def test_post_invalid_rerenders_with_400_and_keeps_text(login, cast, body, error):
    response = login(cast.member).post(f"/chats/{cast.general.pk}/", {"body": body})
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert 'id="composer-error" class="error composer-error" role="alert">' in html
    if body.strip():
        assert body in html  # the text stays in the box
    assert not Message.objects.exists()


def test_post_4000_characters_after_strip_is_accepted(login, cast):
    body = "y" * 4000
    response = login(cast.member).post(f"/chats/{cast.general.pk}/", {"body": f"  {body}\n"})
    assert response.status_code == 302
    assert Message.objects.get().body == body


def test_post_many_sends_have_gap_free_seqs(login, cast):
    client = login(cast.member)
    other = login(cast.owner)
    for n in range(30):
        (client if n % 3 else other).post(f"/chats/{cast.general.pk}/", {"body": f"n{n}"})
    seqs = list(Message.objects.filter(conversation=cast.general).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 31))
    cast.general.refresh_from_db()
    assert cast.general.last_seq == 30


def test_other_methods_are_refused(login, cast):
    client = login(cast.member)
    assert client.put(f"/chats/{cast.general.pk}/").status_code == 405
    assert client.delete(f"/chats/{cast.general.pk}/").status_code == 405


# --- Rendering of message bodies ---------------------------------------------------------------


def test_bodies_are_escaped_with_line_breaks_and_safe_links(login, cast):
    send(cast.owner, cast.general, "<script>alert(1)</script>")
    send(cast.owner, cast.general, "line one\nline two")
    send(cast.owner, cast.general, "see https://example.com/x?a=1&b=2 now")
    send(cast.owner, cast.general, 'javascript:alert(1) <img src=x onerror="alert(2)">')
    html = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<div class="message-body"><p>line one<br>\nline two</p></div>' in html
    assert (
        '<a href="https://example.com/x?a=1&amp;b=2" target="_blank" rel="noopener nofollow ugc">'
        "https://example.com/x?a=1&amp;b=2</a>"
    ) in html
    assert "<img" not in html.split('<ol id="messages"', 1)[1]
    assert 'href="javascript:' not in html


def test_names_are_escaped_in_messages_and_sidebar(login, cast, make_user):
    sneaky = make_user("sneaky", display_name='<b>Bold</b> "q"')
    direct, _ = services.direct_open(actor=sneaky, username=cast.member.username)
    send(sneaky, direct, "hi")
    html = login(cast.member).get(f"/chats/{direct.pk}/").content.decode()
    assert "<b>Bold</b>" not in html
    escaped = "&lt;b&gt;Bold&lt;/b&gt; &quot;q&quot;"
    assert f'<span class="message-author">{escaped}</span>' in html
    assert f'<span class="conversation-name">{escaped}</span>' in html


# --- Direct conversations ----------------------------------------------------------------------


def test_direct_page_for_participants_only(login, alice, bob, carol):
    direct, _ = services.direct_open(actor=alice, username="bob")
    services.message_send(actor=alice, conversation_id=direct.pk, body="hey bob")
    for participant in (alice, bob):
        response = login(participant).get(f"/chats/{direct.pk}/")
        assert response.status_code == 200 and "hey bob" in response.content.decode()
    assert login(carol).get(f"/chats/{direct.pk}/").status_code == 404
    assert login(carol).post(f"/chats/{direct.pk}/", {"body": "intrude"}).status_code == 404
    assert login(bob).post(f"/chats/{direct.pk}/", {"body": "hi alice"}).status_code == 302
    assert list(Message.objects.order_by("seq").values_list("body", flat=True)) == ["hey bob", "hi alice"]
    html = login(bob).get(f"/chats/{direct.pk}/").content.decode()
    assert "Alice A." in html and "@alice" in html


# --- CSRF and deleted accounts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/chats/{conversation}/", {"body": "no token"}),
        ("/chats/{conversation}/messages/1/edit/", {"body": "no token"}),
        ("/chats/{conversation}/messages/1/delete/", {}),
        ("/groups/{group}/conversations/new/", {"name": "no token"}),
        ("/dm/", {"username": "max"}),
        ("/dm/max/", {}),
    ],
)
def test_posts_without_a_csrf_token_are_refused(cast, path, data):
    from django.test import Client

    send(cast.member, cast.general, "original")
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.member)
    url = path.format(conversation=cast.general.pk, group=cast.group.pk)
    assert client.post(url, data).status_code == 403
    assert list(Message.objects.values_list("body", "deleted")) == [("original", False)]
    assert Conversation.objects.count() == 1


def test_direct_page_after_the_other_account_is_deleted(login, alice, bob):
    from accounts import services as account_services

    direct, _ = services.direct_open(actor=alice, username="bob")
    services.message_send(actor=bob, conversation_id=direct.pk, body="bye")
    account_services.user_delete(user=bob)
    response = login(alice).get(f"/chats/{direct.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "deleted user" in html and "bye" in html
    assert "deleted user" in login(alice).get("/chats/").content.decode()
