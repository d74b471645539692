"""Staff find abusive messages in the admin and delete them the way the chat does."""

import pytest

from groups import services as group_services
from messaging import services
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("staffer")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def abuse(cast):
    services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="hello all")
    message, _ = services.message_send(actor=cast.other_member, conversation_id=cast.general.pk, body="buy spam now")
    services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="after")
    return message


def test_search_by_body_and_author(login, staff, abuse):
    client = login(staff)
    by_body = client.get("/admin/messaging/message/", {"q": "spam"})
    assert by_body.status_code == 200
    assert list(by_body.context["cl"].result_list) == [abuse]
    by_author = client.get("/admin/messaging/message/", {"q": "max"})
    assert list(by_author.context["cl"].result_list) == [abuse]
    filtered = client.get("/admin/messaging/message/", {"conversation__kind": "direct"})
    assert list(filtered.context["cl"].result_list) == []


def test_erase_action_keeps_the_seq(login, staff, abuse):
    response = login(staff).post(
        "/admin/messaging/message/", {"action": "erase_messages", "_selected_action": [abuse.pk]}
    )
    assert response.status_code == 302
    abuse.refresh_from_db()
    assert abuse.deleted and abuse.body == "" and abuse.seq == 2
    assert Message.objects.count() == 3


def test_delete_view_erases_instead_of_removing(login, staff, abuse):
    response = login(staff).post(f"/admin/messaging/message/{abuse.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    abuse.refresh_from_db()
    assert abuse.deleted and abuse.body == ""
    assert list(Message.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3]


def test_change_pages_render(login, staff, abuse, cast):
    client = login(staff)
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=3)
    for url in (
        "/admin/messaging/conversation/",
        f"/admin/messaging/conversation/{cast.general.pk}/change/",
        f"/admin/messaging/message/{abuse.pk}/change/",
        "/admin/messaging/readstate/",
    ):
        assert client.get(url).status_code == 200, url


def test_not_for_ordinary_users(login, cast, abuse):
    response = login(cast.owner).get("/admin/messaging/message/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_who_a_conversation_belongs_to_cannot_be_changed_in_the_admin(login, staff, cast, make_user):
    """Kind, group and the two sides of a direct conversation decide who sees it: shown, not editable."""
    other_group = group_services.group_create(actor=cast.outsider, name="Elsewhere")
    client = login(staff)
    url = f"/admin/messaging/conversation/{cast.general.pk}/change/"
    body = client.get(url).content.decode()
    assert 'name="group"' not in body and 'name="kind"' not in body and 'name="user_low"' not in body
    response = client.post(
        url, {"name": "renamed", "kind": "direct", "group": str(other_group.pk), "user_low": str(cast.outsider.pk)}
    )
    assert response.status_code == 302
    stored = Conversation.objects.get(pk=cast.general.pk)
    assert (stored.name, stored.kind, stored.group_id, stored.user_low_id) == ("renamed", "group", cast.group.pk, None)
    assert client.get("/admin/messaging/conversation/add/").status_code == 403
