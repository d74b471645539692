"""The socket's connect-time reads, written as SQL, agree with the ORM's rules.

`conversation_ids_for_user` and `conversation_cursors` repeat `visible_to` and take the
unread rule from `messaging.unread` (its ORM form: tests/messaging/unread_rule.py);
`co_members` the membership and direct rules.
These tests hold them to the ORM for every kind of user, conversation and message.
"""

import pytest
from django.db.models import Q

from accounts import services as account_services
from accounts.models import User
from accounts.serializers import user_json
from groups import services as group_services
from groups.models import Membership
from messaging import services
from messaging.access import visible_to
from messaging.models import Conversation
from messaging.realtime import selectors as realtime_selectors
from tests.messaging import unread_rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, make_user):
    """Groups with topics, directs, messages read and unread, deleted ones, and ones of a deleted account."""
    zed = make_user("zed")
    other_group = group_services.group_create(actor=zed, name="Elsewhere", member_usernames=["nora"])
    side = services.topic_create(actor=zed, group_id=other_group.pk, name="Side")
    plans = services.topic_create(actor=team.owner, group_id=team.group.pk, name="Plans")
    direct, _ = services.direct_open(actor=team.member, username="nora")
    services.direct_open(actor=team.admin, username="zed")
    leaving = make_user("leaving")
    services.direct_open(actor=leaving, username="mia")
    group_services.member_add(actor=team.owner, group_id=team.group.pk, username="leaving")
    sleeper = make_user("sleeper")
    group_services.member_add(actor=team.owner, group_id=team.group.pk, username="sleeper")
    services.direct_open(actor=sleeper, username="max")

    def send(user, conversation, body):
        return services.message_send(actor=user, conversation_id=conversation.pk, body=body)[0]

    for i, author in enumerate([team.owner, team.member, leaving, team.admin, team.member, leaving, team.owner]):
        send(author, team.general, f"general {i}")
    send(team.owner, plans, "plans 1")
    send(team.admin, plans, "plans 2")
    send(team.member, direct, "hi nora")
    send(zed, side, "side")
    gone = send(team.admin, team.general, "to be deleted")
    services.message_delete(actor=team.admin, conversation_id=team.general.pk, seq=gone.seq)
    services.read_mark(actor=team.member, conversation_id=team.general.pk, seq=3)
    services.read_mark(actor=team.admin, conversation_id=plans.pk, seq=2)
    services.read_mark(actor=team.outsider, conversation_id=direct.pk, seq=1)
    account_services.user_delete(user=leaving)  # their messages stay, authorless
    account_services.user_deactivate(user=sleeper)
    group_services.member_remove(actor=team.owner, group_id=team.group.pk, username="max")
    users = [team.owner, team.admin, team.member, team.other_member, team.outsider, zed]
    return team, [User.objects.get(pk=u.pk) for u in users]


def test_conversation_ids_agree_with_visible_to(world):
    _team, users = world
    for user in users:
        expected = set(Conversation.objects.filter(visible_to(user)).values_list("pk", flat=True))
        assert realtime_selectors.conversation_ids_for_user(user) == expected, user.username


def test_cursors_agree_with_the_orm(world):
    team, users = world
    assert any(c["unread"] for c in realtime_selectors.conversation_cursors(team.member))
    for user in users:
        assert realtime_selectors.conversation_cursors(user) == unread_rule.conversation_cursors(user)
        for cursor in realtime_selectors.conversation_cursors(user):
            assert cursor["unread"] == unread_rule.unread_count(user, cursor["id"]), (user.username, cursor)


def test_co_members_agree_with_the_orm(world):
    _team, users = world
    User.objects.filter(pk=users[1].pk).update(avatar="avatars/ab/abcdef.webp")  # one with a picture
    for user in users:
        group_ids = Membership.objects.filter(user=user).values("group_id")
        directs = Conversation.objects.filter(Q(user_low=user) | Q(user_high=user), kind=Conversation.Kind.DIRECT)
        expected = list(
            User.objects.filter(
                Q(memberships__group_id__in=group_ids)
                | Q(pk__in=directs.values("user_low"))
                | Q(pk__in=directs.values("user_high")),
                is_active=True,
            )
            .exclude(pk=user.pk)
            .distinct()
            .order_by("pk")
        )
        assert realtime_selectors.co_members(user) == [user_json(u) for u in expected], user.username
    assert not any(m["username"] == "sleeper" for m in realtime_selectors.co_members(users[0]))
