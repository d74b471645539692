"""@mentions: who can be mentioned (visibility), what is stored on send, edit and delete, the
sidebar's marker and GET /mentions/."""

from messaging import selectors, services
from messaging.models import Mention
from tests.conftest import send
from tests.messaging import unread_rule


def mentioned(message) -> set[int]:
    return set(Mention.objects.filter(message=message).values_list("user_id", flat=True))


def test_a_member_is_mentioned_in_any_letter_case_and_highlighted(cast):
    message = send(cast.owner, cast.general, "@MIA can you look? cc @adam.")
    assert mentioned(message) == {cast.member.pk, cast.admin.pk}
    assert f'<span class="mention" data-mention="{cast.member.pk}">@MIA</span>' in message.html
    assert f'<span class="mention" data-mention="{cast.admin.pk}">@adam</span>.' in message.html


def test_a_mention_of_someone_who_cannot_see_the_conversation_is_text_and_notifies_nobody(cast):
    message = send(cast.owner, cast.general, "@nora @nobody hello")
    assert mentioned(message) == set()
    assert message.html == "<p>@nora @nobody hello</p>"
    assert selectors.recent_mentions(cast.outsider) == []


def test_all_mentions_every_member_but_the_author(cast):
    message = send(cast.member, cast.general, "@all meeting at 3")
    assert mentioned(message) == {cast.owner.pk, cast.admin.pk, cast.other_member.pk}
    assert '<span class="mention" data-mention="all">@all</span>' in message.html


def test_all_in_a_direct_conversation_is_text(cast):
    direct, _ = services.direct_open(actor=cast.owner, username="mia")
    message = send(cast.owner, direct, "@all hi @mia")
    assert mentioned(message) == {cast.member.pk}
    assert "@all hi" in message.html and 'data-mention="all"' not in message.html


def test_edits_add_and_remove_mentions_and_deletion_removes_them(cast):
    message = send(cast.owner, cast.general, "hello @mia")
    services.message_edit(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq, body="hello @max")
    assert mentioned(message) == {cast.other_member.pk}
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq)
    assert mentioned(message) == set()


def test_unread_mentions_are_counted_until_read(cast, login):
    send(cast.owner, cast.general, "@mia first")
    send(cast.owner, cast.general, "no mention")
    send(cast.admin, cast.general, "@mia second")
    (general,) = [c for c in selectors.conversations_for_user(cast.member) if c.pk == cast.general.pk]
    assert (general.unread, general.mentions) == (3, 2)
    cursor = [c for c in unread_rule.conversation_cursors(cast.member) if c["id"] == cast.general.pk]
    assert cursor == [{"id": cast.general.pk, "last_seq": 3, "unread": 3, "mentions": 2}]
    page = login(cast.member).get("/chats/").content.decode()
    assert '<span class="mention-badge" aria-label="2 mentions of you">@2</span>' in page
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=1)
    (general,) = [c for c in selectors.conversations_for_user(cast.member) if c.pk == cast.general.pk]
    assert (general.unread, general.mentions) == (2, 1)


def test_the_mentions_page_lists_newest_first_with_links_in_context(cast, login):
    send(cast.owner, cast.general, "@mia older")
    send(cast.admin, cast.general, "@mia newer <b>x</b>")
    send(cast.admin, cast.general, "@max not yours")
    page = login(cast.member).get("/mentions/").content.decode()
    html = page[page.index('id="mentions-title"') :]
    newer, older = html.index("newer &lt;b&gt;x&lt;/b&gt;"), html.index("@mia older")
    assert newer < older
    assert (
        f'href="/chats/{cast.general.pk}/?around=2#m2"' in html
        and f'href="/chats/{cast.general.pk}/?around=1#m1"' in html
    )
    assert "not yours" not in html
    assert login(None).get("/mentions/").status_code == 302


def test_mentions_in_a_conversation_you_lost_are_not_listed(cast, login):
    send(cast.owner, cast.general, "@mia secret")
    from groups import services as group_services

    group_services.member_remove(actor=cast.owner, group_id=cast.group.pk, username="mia")
    assert "secret" not in login(cast.member).get("/mentions/").content.decode()
    assert selectors.recent_mentions(cast.member) == []
