"""The conversation gate: `access_conversation` (one row, every frame) agrees with `visible_to` (sets).

The rule is written twice in messaging/access.py (an ORM filter and one SQL
statement); these tests hold the two to the same answer for every kind of user
and conversation, and check that the gate's hand-built objects equal the ORM's.
"""

import pytest

from chatsite.errors import Forbidden, NotFound
from groups.models import Membership
from messaging import services
from messaging.access import (
    access_conversation,
    can_delete,
    can_edit,
    check_can_delete,
    check_can_edit,
    visible_to,
)
from messaging.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_gate_agrees_with_visible_to_for_every_user_and_conversation(world):
    _team, users = world
    conversations = list(Conversation.objects.order_by("pk"))
    assert len(conversations) >= 7
    for user in users:
        visible = set(Conversation.objects.filter(visible_to(user)).values_list("pk", flat=True))
        for conversation in conversations:
            try:
                access_conversation(user, conversation.pk)
                allowed = True
            except NotFound:
                allowed = False
            assert allowed == (conversation.pk in visible), (user.username, conversation)


def test_gate_returns_the_same_objects_as_the_orm(world):
    cast, _users = world
    conversation, membership = access_conversation(cast.admin, cast.general.pk)
    loaded = Conversation.objects.select_related("group").get(pk=cast.general.pk)
    for field in Conversation._meta.concrete_fields:
        assert getattr(conversation, field.attname) == getattr(loaded, field.attname), field.name
    assert conversation.group.name == "Team"
    assert conversation.group.created_at == loaded.group.created_at
    assert membership.role == "admin" and membership.user == cast.admin and membership.group.pk == cast.group.pk

    direct, _ = services.direct_open(actor=cast.member, username="adam")
    conversation, membership = access_conversation(cast.member, direct.pk)
    assert conversation.pk == direct.pk and conversation.group is None and membership is None
    assert conversation.created_at == Conversation.objects.get(pk=direct.pk).created_at


@pytest.mark.parametrize("bad", [None, "", "abc", "1.5", -1, 0, 2**63, 10**30])
def test_gate_refuses_ids_that_name_nothing(cast, bad):
    with pytest.raises(NotFound):
        access_conversation(cast.member, bad)


def test_the_edit_and_delete_questions_agree_with_their_checks(world):
    """The page asks `can_edit`/`can_delete` for each message; services call the checks, which raise."""
    cast, users = world
    messages = list(Message.objects.filter(conversation=cast.general).order_by("seq"))
    assert any(m.deleted for m in messages) and any(m.author_id is None for m in messages)
    for user in users:
        membership = Membership.objects.filter(user=user, group=cast.group).first()
        for message in messages:
            for question, check, args in (
                (can_edit, check_can_edit, (user, message)),
                (can_delete, check_can_delete, (user, message, membership)),
            ):
                try:
                    check(*args)
                    allowed = True
                except Forbidden:
                    allowed = False
                assert question(*args) is allowed, (question.__name__, user.username, message.seq)
