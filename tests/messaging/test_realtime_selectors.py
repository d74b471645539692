"""The socket's connect-time reads, written as SQL, agree with the ORM's rules.

`conversation_ids_for_user` and `conversation_cursors` repeat `visible_to` and take the
unread rule from `messaging.unread` (its ORM form: tests/messaging/unread_rule.py);
`co_members` the membership and direct rules; `hello_state` adds the mutes and stars.
These tests hold them to the ORM for every kind of user, conversation and message.
"""

import pytest
from django.db.models import Q

from accounts.models import User
from accounts.serializers import user_json
from groups.models import Membership
from messaging import services
from messaging.access import visible_to
from messaging.models import Conversation, Mute, Star
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


def test_hello_state_reads_cursors_and_the_muted_and_starred_the_user_may_see(world):
    """`hello`'s one query: the same cursors, and exactly the user's mutes and stars among them."""
    cast, users = world
    plans = Conversation.objects.get(name="Plans")
    elsewhere = Conversation.objects.exclude(group=cast.group).filter(group__isnull=False).first()
    services.conversation_mute_toggle(actor=cast.member, conversation_id=cast.general.pk)
    services.conversation_star_toggle(actor=cast.member, conversation_id=plans.pk)
    services.conversation_star_toggle(actor=cast.member, conversation_id=cast.general.pk)
    services.conversation_mute_toggle(actor=cast.admin, conversation_id=plans.pk)  # someone else's
    # A mute on a conversation the member no longer sees (a group left since) is not theirs to read.
    Mute.objects.create(user=cast.member, conversation=elsewhere)
    for user in users:
        state = realtime_selectors.hello_state(user)
        assert state.cursors == realtime_selectors.conversation_cursors(user), user.username
        visible = {cursor["id"] for cursor in state.cursors}
        assert state.muted == set(Mute.objects.filter(user=user).values_list("conversation_id", flat=True)) & visible
        assert state.starred == set(Star.objects.filter(user=user).values_list("conversation_id", flat=True)) & visible
    member = realtime_selectors.hello_state(cast.member)
    assert (member.muted, member.starred) == ({cast.general.pk}, {cast.general.pk, plans.pk})
    only = realtime_selectors.hello_state(cast.member, [plans.pk, elsewhere.pk])
    assert ([c["id"] for c in only.cursors], only.muted, only.starred) == ([plans.pk], set(), {plans.pk})
