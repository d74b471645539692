"""Replies: `reply_to` on send (service, form, history JSON), and how a reply shows its original."""

import pytest

from chatsite.errors import Invalid
from messaging import services
from messaging.models import Message
from tests.conftest import send


def test_a_reply_carries_its_original_in_the_message_object(cast, login):
    send(
        cast.owner,
        cast.general,
        "Where shall we meet   for the hike on Saturday morning, at the station or the car park?",
    )
    send(cast.member, cast.general, "The station", reply_to=1)
    messages = login(cast.admin).get(f"/chats/{cast.general.pk}/messages/").json()["messages"]
    assert messages[0]["reply_to"] is None
    assert messages[1]["reply_to"] == {
        "seq": 1,
        "author": {"id": cast.owner.pk, "username": "olivia", "display_name": "Olivia", "avatar_url": None},
        "snippet": "Where shall we meet for the hike on Saturday morning, at the station or the car…",
        "deleted": False,
    }


@pytest.mark.parametrize("reply_to", [0, 2, 99, -1, "x", 1.5, True, "9" * 30])
def test_reply_to_must_be_a_message_of_the_same_conversation(cast, reply_to):
    send(cast.owner, cast.general, "first")
    other = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="other")
    send(cast.owner, other, "elsewhere")
    with pytest.raises(Invalid):
        send(cast.member, cast.general, "reply", reply_to=reply_to)
    assert Message.objects.filter(conversation=cast.general).count() == 1


def test_a_reply_to_a_deleted_message_says_so(cast, login):
    send(cast.owner, cast.general, "secret plan")
    send(cast.member, cast.general, "ok!", reply_to=1)
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=1)
    client = login(cast.admin)
    (_, reply) = client.get(f"/chats/{cast.general.pk}/messages/").json()["messages"]
    assert reply["reply_to"]["deleted"] is True and reply["reply_to"]["snippet"] == ""
    page = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert '<p class="reply-to">replying to a deleted message</p>' in page
    assert "secret plan" not in page


def test_the_page_links_a_reply_to_its_original_and_escapes_it(cast, login):
    send(cast.owner, cast.general, "<b>bold</b> idea")
    send(cast.member, cast.general, "yes", reply_to=1)
    page = login(cast.admin).get(f"/chats/{cast.general.pk}/").content.decode()
    assert (
        f'<p class="reply-to"><a href="/chats/{cast.general.pk}/?around=1#m1" data-seq="1">'
        "replying to @olivia: &lt;b&gt;bold&lt;/b&gt; idea</a></p>"
    ) in page


def test_the_no_js_form_replies(cast, login):
    send(cast.owner, cast.general, "question?")
    client = login(cast.member)
    form_page = client.get(f"/chats/{cast.general.pk}/?reply_to=1").content.decode()
    assert '<input type="hidden" name="reply_to" id="reply-to" value="1">' in form_page
    assert "Replying to @olivia: question?" in form_page
    response = client.post(f"/chats/{cast.general.pk}/", {"body": "answer", "reply_to": "1"})
    assert response.status_code == 302
    assert Message.objects.get(conversation=cast.general, seq=2).reply_to.seq == 1
    bad = client.post(f"/chats/{cast.general.pk}/", {"body": "answer", "reply_to": "77"})
    assert bad.status_code == 400 and "reply_to must be" in bad.content.decode()
    assert Message.objects.filter(conversation=cast.general).count() == 2


MALFORMED = ["x", "", " 1", "+1", "-1", "1.5", "\uff11", "9" * 20, str(2**63)]


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_reply_to_on_the_page_is_400_as_before_and_after_are(cast, login, value):
    send(cast.owner, cast.general, "question?")
    client = login(cast.member)
    url = f"/chats/{cast.general.pk}/"
    assert client.get(url, {"before": value}).status_code == 400
    response = client.get(url, {"reply_to": value})
    assert response.status_code == 400
    assert "reply_to must be a whole number" in response.content.decode()


def test_a_reply_to_no_message_of_the_conversation_is_404_like_any_missing_message(cast, login):
    send(cast.owner, cast.general, "question?")
    other = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="other")
    send(cast.owner, other, "one")
    send(cast.owner, other, "two")
    client = login(cast.member)
    url = f"/chats/{cast.general.pk}/"
    missing_edit = client.get(f"{url}messages/2/edit/")
    for seq in ("0", "2", "99"):  # seq 2 exists, but in another conversation
        response = client.get(url, {"reply_to": seq})
        assert response.status_code == 404 == missing_edit.status_code
        assert "That message does not exist." in response.content.decode()
    assert login(cast.outsider).get(url, {"reply_to": "1"}).status_code == 404
    assert client.get(url, {"reply_to": "1"}).status_code == 200


def test_a_reply_to_a_deleted_message_can_be_written_and_says_so(cast, login):
    send(cast.owner, cast.general, "secret plan")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=1)
    client = login(cast.member)
    page = client.get(f"/chats/{cast.general.pk}/", {"reply_to": "1"}).content.decode()
    assert "Replying to a deleted message" in page and "secret plan" not in page
    assert client.post(f"/chats/{cast.general.pk}/", {"body": "too late", "reply_to": "1"}).status_code == 302
    assert Message.objects.get(conversation=cast.general, seq=2).reply_to.seq == 1


def test_a_refused_reply_keeps_what_it_answers_in_the_page(cast, login):
    send(cast.owner, cast.general, "question?")
    response = login(cast.member).post(f"/chats/{cast.general.pk}/", {"body": "  ", "reply_to": "1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert '<input type="hidden" name="reply_to" id="reply-to" value="1">' in page
    assert "Replying to @olivia: question?" in page
