"""Replies: `reply_to` on send (service, form, history JSON), and how a reply shows its original."""

import pytest

from chatsite.errors import Invalid
from messaging import services
from messaging.models import Message


def send(user, conversation, body, reply_to=None):
    message, _ = services.message_send(actor=user, conversation_id=conversation.pk, body=body, reply_to=reply_to)
    return message


def test_a_reply_carries_its_original_in_the_message_object(team, login):
    send(
        team.owner,
        team.general,
        "Where shall we meet   for the hike on Saturday morning, at the station or the car park?",
    )
    send(team.member, team.general, "The station", reply_to=1)
    messages = login(team.admin).get(f"/chats/{team.general.pk}/messages/").json()["messages"]
    assert messages[0]["reply_to"] is None
    assert messages[1]["reply_to"] == {
        "seq": 1,
        "author": {"id": team.owner.pk, "username": "olivia", "display_name": "Olivia", "avatar_url": None},
        "snippet": "Where shall we meet for the hike on Saturday morning, at the station or the car…",
        "deleted": False,
    }


@pytest.mark.parametrize("reply_to", [0, 2, 99, -1, "x", 1.5, True, "9" * 30])
def test_reply_to_must_be_a_message_of_the_same_conversation(team, reply_to):
    send(team.owner, team.general, "first")
    other = services.topic_create(actor=team.owner, group_id=team.group.pk, name="other")
    send(team.owner, other, "elsewhere")
    with pytest.raises(Invalid):
        send(team.member, team.general, "reply", reply_to=reply_to)
    assert Message.objects.filter(conversation=team.general).count() == 1


def test_a_reply_to_a_deleted_message_says_so(team, login):
    send(team.owner, team.general, "secret plan")
    send(team.member, team.general, "ok!", reply_to=1)
    services.message_delete(actor=team.owner, conversation_id=team.general.pk, seq=1)
    client = login(team.admin)
    (_, reply) = client.get(f"/chats/{team.general.pk}/messages/").json()["messages"]
    assert reply["reply_to"]["deleted"] is True and reply["reply_to"]["snippet"] == ""
    page = client.get(f"/chats/{team.general.pk}/").content.decode()
    assert '<p class="reply-to">replying to a deleted message</p>' in page
    assert "secret plan" not in page


def test_the_page_links_a_reply_to_its_original_and_escapes_it(team, login):
    send(team.owner, team.general, "<b>bold</b> idea")
    send(team.member, team.general, "yes", reply_to=1)
    page = login(team.admin).get(f"/chats/{team.general.pk}/").content.decode()
    assert (
        f'<p class="reply-to"><a href="/chats/{team.general.pk}/?around=1#m1" data-seq="1">'
        "replying to @olivia: &lt;b&gt;bold&lt;/b&gt; idea</a></p>"
    ) in page


def test_the_no_js_form_replies(team, login):
    send(team.owner, team.general, "question?")
    client = login(team.member)
    form_page = client.get(f"/chats/{team.general.pk}/?reply_to=1").content.decode()
    assert '<input type="hidden" name="reply_to" id="reply-to" value="1">' in form_page
    assert "Replying to @olivia: question?" in form_page
    response = client.post(f"/chats/{team.general.pk}/", {"body": "answer", "reply_to": "1"})
    assert response.status_code == 302
    assert Message.objects.get(conversation=team.general, seq=2).reply_to.seq == 1
    bad = client.post(f"/chats/{team.general.pk}/", {"body": "answer", "reply_to": "77"})
    assert bad.status_code == 400 and "reply_to must be" in bad.content.decode()
    assert Message.objects.filter(conversation=team.general).count() == 2
