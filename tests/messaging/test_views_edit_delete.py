"""Editing and deleting messages: who may, and that a refusal changes nothing."""

import pytest

from messaging import services
from messaging.models import Message

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def posted(cast):
    """One message by the member (mia) in general."""
    message, _ = services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="original text")
    return message


def edit_url(message) -> str:
    return f"/chats/{message.conversation_id}/messages/{message.seq}/edit/"


def delete_url(message) -> str:
    return f"/chats/{message.conversation_id}/messages/{message.seq}/delete/"


def unchanged(message) -> bool:
    stored = Message.objects.get(pk=message.pk)
    return stored.body == "original text" and stored.edited_at is None and not stored.deleted


# --- Edit ---------------------------------------------------------------------------------------


def test_author_edits(login, cast, posted):
    response = login(cast.member).post(edit_url(posted), {"body": "  better text "})
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{cast.general.pk}/"
    posted.refresh_from_db()
    assert posted.body == "better text" and posted.edited_at is not None and posted.seq == 1


def test_edit_anonymous_is_sent_to_login(login, posted):
    response = login(None).post(edit_url(posted), {"body": "hijack"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert login(None).post(edit_url(posted), {"body": "hijack"}, **JSON).status_code == 401
    assert unchanged(posted)


def test_edit_outsider_gets_404(login, cast, posted):
    assert login(cast.outsider).post(edit_url(posted), {"body": "hijack"}).status_code == 404
    assert login(cast.outsider).get(edit_url(posted)).status_code == 404
    assert unchanged(posted)


@pytest.mark.parametrize("role", ["other_member", "admin", "owner"])
def test_edit_by_anyone_but_the_author_is_403(login, cast, posted, role):
    client = login(getattr(cast, role))
    assert client.post(edit_url(posted), {"body": "hijack"}).status_code == 403
    assert client.get(edit_url(posted)).status_code == 403
    assert unchanged(posted)


@pytest.mark.parametrize(("body", "error"), [("   ", "Write something"), ("z" * 4001, "at most 4000 characters")])
def test_edit_invalid_body_rerenders_with_400(login, cast, posted, body, error):
    response = login(cast.member).post(edit_url(posted), {"body": body})
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html and '<form method="post"' in html
    assert unchanged(posted)


def test_edit_page_no_js(login, cast, posted):
    response = login(cast.member).get(edit_url(posted))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{edit_url(posted)}"' in html and "original text</textarea>" in html
    # The conversation page links each own message to it.
    page = login(cast.member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'href="{edit_url(posted)}"' in page
    other = login(cast.other_member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'href="{edit_url(posted)}"' not in other


def test_edit_missing_message_is_404(login, cast, posted):
    assert login(cast.member).post(f"/chats/{cast.general.pk}/messages/99/edit/", {"body": "x"}).status_code == 404


def test_edit_deleted_message_is_refused(login, cast, posted):
    services.message_delete(actor=cast.member, conversation_id=cast.general.pk, seq=posted.seq)
    assert login(cast.member).post(edit_url(posted), {"body": "back"}).status_code == 403
    assert Message.objects.get(pk=posted.pk).body == ""


def test_edit_json(login, cast, posted):
    client = login(cast.member)
    response = client.post(edit_url(posted), {"body": "via script"}, **JSON)
    assert response.status_code == 200
    assert response.json()["message"]["body"] == "via script" and response.json()["message"]["edited_at"]
    bad = client.post(edit_url(posted), {"body": ""}, **JSON)
    assert bad.status_code == 400 and bad.json()["error"] == "blank"
    refused = login(cast.owner).post(edit_url(posted), {"body": "x"}, **JSON)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert login(cast.outsider).post(edit_url(posted), {"body": "x"}, **JSON).status_code == 404


@pytest.mark.parametrize(("body", "code"), [("   ", "blank"), ("z" * 4001, "too_long")])
def test_edit_json_refuses_a_bad_body_with_the_code_the_socket_uses(login, cast, posted, body, code):
    response = login(cast.member).post(edit_url(posted), {"body": body}, **JSON)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert response.json() == {"error": code, "detail": detail}
    assert ("4000" in detail) if code == "too_long" else ("Write something" in detail)
    assert unchanged(posted)


def test_edit_other_methods_are_405(login, cast, posted):
    assert login(cast.member).put(edit_url(posted)).status_code == 405


# --- Delete -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_author_and_moderators_delete(login, cast, posted, role):
    response = login(getattr(cast, role)).post(delete_url(posted))
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{cast.general.pk}/"
    stored = Message.objects.get(pk=posted.pk)
    assert stored.deleted and stored.body == "" and stored.seq == posted.seq


def test_delete_by_another_member_is_403(login, cast, posted):
    assert login(cast.other_member).post(delete_url(posted)).status_code == 403
    assert unchanged(posted)
    page = login(cast.other_member).get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'action="{delete_url(posted)}"' not in page
    assert f'action="{delete_url(posted)}"' in login(cast.admin).get(f"/chats/{cast.general.pk}/").content.decode()


def test_members_cannot_delete_a_moderators_message(login, cast):
    message, _ = services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body="rules")
    assert login(cast.member).post(delete_url(message)).status_code == 403
    assert not Message.objects.get(pk=message.pk).deleted


def test_delete_anonymous_and_outsider_change_nothing(login, cast, posted):
    anonymous = login(None).post(delete_url(posted))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert login(None).post(delete_url(posted), **JSON).status_code == 401
    assert login(cast.outsider).post(delete_url(posted)).status_code == 404
    assert login(cast.outsider).post(f"/chats/{cast.general.pk}/messages/99/delete/").status_code == 404
    assert unchanged(posted)


def test_delete_is_post_only(login, cast, posted):
    assert login(cast.member).get(delete_url(posted)).status_code == 405
    assert unchanged(posted)


def test_delete_json(login, cast, posted):
    response = login(cast.admin).post(delete_url(posted), **JSON)
    assert response.status_code == 200
    assert response.json()["message"] == {**response.json()["message"], "deleted": True, "body": "", "seq": 1}


def test_delete_in_a_direct_conversation(login, alice, bob, carol):
    direct, _ = services.direct_open(actor=alice, username="bob")
    mine, _ = services.message_send(actor=alice, conversation_id=direct.pk, body="mine")
    assert login(bob).post(delete_url(mine)).status_code == 403  # no moderators in a direct conversation
    assert login(carol).post(delete_url(mine)).status_code == 404
    assert login(bob).post(edit_url(mine), {"body": "x"}).status_code == 403
    assert Message.objects.get(pk=mine.pk).body == "mine"
    assert login(alice).post(edit_url(mine), {"body": "edited"}).status_code == 302
    assert login(alice).post(delete_url(mine)).status_code == 302
    assert Message.objects.get(pk=mine.pk).deleted
