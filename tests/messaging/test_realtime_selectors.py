"""The socket's connect-time reads, written as SQL, agree with the ORM's rules.

`conversation_ids_for_user` and `conversation_cursors` repeat `visible_to` and take the
unread rule from `messaging.unread` (its ORM form: tests/messaging/unread_rule.py);
`co_members` the membership and direct rules.
These tests hold them to the ORM for every kind of user, conversation and message.
"""

import pytest
from django.db.models import Q

from accounts.models import User
from accounts.serializers import user_json
from groups.models import Membership
from messaging.access import visible_to
from messaging.models import Conversation
from messaging.realtime import selectors as realtime_selectors
from tests.messaging import unread_rule

pytestmark = pytest.mark.django_db


def test_conversation_ids_agree_with_visible_to(world):
    _team, users = world
    for user in users:
        expected = set(Conversation.objects.filter(visible_to(user)).values_list("pk", flat=True))
        assert realtime_selectors.conversation_ids_for_user(user) == expected, user.username


def test_cursors_agree_with_the_orm(world):
    cast, users = world
    assert any(c["unread"] for c in realtime_selectors.conversation_cursors(cast.member))
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
