"""Staff find abusive messages in the admin and delete them the way the chat does."""

import pytest

from messaging import services
from messaging.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    user = make_user("staffer")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def abuse(team):
    services.message_send(actor=team.member, conversation_id=team.general.pk, body="hello all")
    message, _ = services.message_send(actor=team.other_member, conversation_id=team.general.pk, body="buy spam now")
    services.message_send(actor=team.member, conversation_id=team.general.pk, body="after")
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


def test_change_pages_render(login, staff, abuse, team):
    client = login(staff)
    services.read_mark(actor=team.member, conversation_id=team.general.pk, seq=3)
    for url in (
        "/admin/messaging/conversation/",
        f"/admin/messaging/conversation/{team.general.pk}/change/",
        f"/admin/messaging/message/{abuse.pk}/change/",
        "/admin/messaging/readstate/",
    ):
        assert client.get(url).status_code == 200, url


def test_not_for_ordinary_users(login, team, abuse):
    response = login(team.owner).get("/admin/messaging/message/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
