import pytest

from chatsite.errors import Forbidden, Invalid, NotFound
from groups import services as group_services
from messaging import selectors, services
from messaging.models import ReadState
from messaging.selectors import default_conversation
from tests.messaging import unread_rule


@pytest.mark.django_db
def test_group_flow_seq_unread_and_read(alice, bob, carol):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["BOB"])
    general = default_conversation(group)
    assert general.name == "general"
    m1, created = services.message_send(actor=alice, conversation_id=general.pk, body="  hi  ", client_id="c1")
    assert created and m1.seq == 1 and m1.body == "hi"
    again, created = services.message_send(actor=alice, conversation_id=general.pk, body="hi", client_id="c1")
    assert not created and again.pk == m1.pk
    m2, _ = services.message_send(actor=bob, conversation_id=general.pk, body="yo")
    assert m2.seq == 2
    rows = {c.pk: c for c in selectors.conversations_for_user(bob)}
    assert rows[general.pk].unread == 1 and rows[general.pk].last_body == "yo"
    assert unread_rule.conversation_cursors(alice) == [{"id": general.pk, "last_seq": 2, "unread": 1, "mentions": 0}]
    services.read_mark(actor=alice, conversation_id=general.pk, seq=2)
    assert unread_rule.unread_count(alice, general.pk) == 0
    with pytest.raises(NotFound):
        services.message_send(actor=carol, conversation_id=general.pk, body="hello")
    with pytest.raises(Invalid) as err:
        services.message_send(actor=bob, conversation_id=general.pk, body="   ")
    assert err.value.code == "blank"
    with pytest.raises(Forbidden):
        services.message_edit(actor=bob, conversation_id=general.pk, seq=1, body="x")
    with pytest.raises(Forbidden):
        services.message_delete(actor=bob, conversation_id=general.pk, seq=1)
    deleted = services.message_delete(actor=alice, conversation_id=general.pk, seq=2)  # owner moderates
    assert deleted.deleted and deleted.body == ""


@pytest.mark.django_db
def test_direct_is_one_per_pair(alice, bob):
    first, created = services.direct_open(actor=alice, username="bob")
    second, created2 = services.direct_open(actor=bob, username="Alice")
    assert created and not created2 and first.pk == second.pk


@pytest.mark.django_db
def test_read_marker_only_moves_forward_and_is_capped(alice, bob, carol):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    general = default_conversation(group)
    for n in range(3):
        services.message_send(actor=bob, conversation_id=general.pk, body=f"m{n}")

    def marker():
        return ReadState.objects.get(user=alice, conversation=general).last_read_seq

    assert services.read_mark(actor=alice, conversation_id=general.pk, seq=0) == 0
    assert marker() == 0 and unread_rule.unread_count(alice, general.pk) == 3
    assert services.read_mark(actor=alice, conversation_id=general.pk, seq=2) == 2
    assert marker() == 2 and unread_rule.unread_count(alice, general.pk) == 1
    assert services.read_mark(actor=alice, conversation_id=general.pk, seq=1) == 2  # never back
    assert marker() == 2
    assert services.read_mark(actor=alice, conversation_id=general.pk, seq=99) == 3  # capped at the last seq
    assert marker() == 3 and unread_rule.unread_count(alice, general.pk) == 0
    assert ReadState.objects.filter(user=alice, conversation=general).count() == 1
    with pytest.raises(Invalid):
        services.read_mark(actor=alice, conversation_id=general.pk, seq=-1)
    with pytest.raises(NotFound):
        services.read_mark(actor=carol, conversation_id=general.pk, seq=1)
