"""@mentions: who can be mentioned (visibility), what is stored on send, edit and delete, the
sidebar's marker and GET /mentions/."""

from messaging import selectors, services
from messaging.models import Mention
from tests.messaging import unread_rule


def send(user, conversation, body):
    message, _ = services.message_send(actor=user, conversation_id=conversation.pk, body=body)
    return message


def mentioned(message) -> set[int]:
    return set(Mention.objects.filter(message=message).values_list("user_id", flat=True))


def test_a_member_is_mentioned_in_any_letter_case_and_highlighted(team):
    message = send(team.owner, team.general, "@MIA can you look? cc @adam.")
    assert mentioned(message) == {team.member.pk, team.admin.pk}
    assert f'<span class="mention" data-mention="{team.member.pk}">@MIA</span>' in message.html
    assert f'<span class="mention" data-mention="{team.admin.pk}">@adam</span>.' in message.html


def test_a_mention_of_someone_who_cannot_see_the_conversation_is_text_and_notifies_nobody(team):
    message = send(team.owner, team.general, "@nora @nobody hello")
    assert mentioned(message) == set()
    assert message.html == "<p>@nora @nobody hello</p>"
    assert selectors.recent_mentions(team.outsider) == []


def test_all_mentions_every_member_but_the_author(team):
    message = send(team.member, team.general, "@all meeting at 3")
    assert mentioned(message) == {team.owner.pk, team.admin.pk, team.other_member.pk}
    assert '<span class="mention" data-mention="all">@all</span>' in message.html


def test_all_in_a_direct_conversation_is_text(team):
    direct, _ = services.direct_open(actor=team.owner, username="mia")
    message = send(team.owner, direct, "@all hi @mia")
    assert mentioned(message) == {team.member.pk}
    assert "@all hi" in message.html and 'data-mention="all"' not in message.html


def test_edits_add_and_remove_mentions_and_deletion_removes_them(team):
    message = send(team.owner, team.general, "hello @mia")
    services.message_edit(actor=team.owner, conversation_id=team.general.pk, seq=message.seq, body="hello @max")
    assert mentioned(message) == {team.other_member.pk}
    services.message_delete(actor=team.owner, conversation_id=team.general.pk, seq=message.seq)
    assert mentioned(message) == set()


def test_unread_mentions_are_counted_until_read(team, login):
    send(team.owner, team.general, "@mia first")
    send(team.owner, team.general, "no mention")
    send(team.admin, team.general, "@mia second")
    (general,) = [c for c in selectors.conversations_for_user(team.member) if c.pk == team.general.pk]
    assert (general.unread, general.mentions) == (3, 2)
    cursor = [c for c in unread_rule.conversation_cursors(team.member) if c["id"] == team.general.pk]
    assert cursor == [{"id": team.general.pk, "last_seq": 3, "unread": 3, "mentions": 2}]
    page = login(team.member).get("/chats/").content.decode()
    assert '<span class="mention-badge" aria-label="2 mentions of you">@2</span>' in page
    services.read_mark(actor=team.member, conversation_id=team.general.pk, seq=1)
    (general,) = [c for c in selectors.conversations_for_user(team.member) if c.pk == team.general.pk]
    assert (general.unread, general.mentions) == (2, 1)


def test_the_mentions_page_lists_newest_first_with_links_in_context(team, login):
    send(team.owner, team.general, "@mia older")
    send(team.admin, team.general, "@mia newer <b>x</b>")
    send(team.admin, team.general, "@max not yours")
    page = login(team.member).get("/mentions/").content.decode()
    html = page[page.index('id="mentions-title"') :]
    newer, older = html.index("newer &lt;b&gt;x&lt;/b&gt;"), html.index("@mia older")
    assert newer < older
    assert (
        f'href="/chats/{team.general.pk}/?around=2#m2"' in html
        and f'href="/chats/{team.general.pk}/?around=1#m1"' in html
    )
    assert "not yours" not in html
    assert login(None).get("/mentions/").status_code == 302


def test_mentions_in_a_conversation_you_lost_are_not_listed(team, login):
    send(team.owner, team.general, "@mia secret")
    from groups import services as group_services

    group_services.member_remove(actor=team.owner, group_id=team.group.pk, username="mia")
    assert "secret" not in login(team.member).get("/mentions/").content.decode()
    assert selectors.recent_mentions(team.member) == []
