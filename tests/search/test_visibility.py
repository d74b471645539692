"""Results come only from what the user can see at the moment of the query."""

from groups import services as group_services
from messaging import services as messaging_services
from tests.conftest import send


def test_an_outsider_finds_nothing_of_the_group(cast, found):
    send(cast.owner, cast.general, "quarterly numbers")
    assert found(cast.member, "quarterly") == ["quarterly numbers"]
    assert found(cast.outsider, "quarterly") == []
    assert found(cast.outsider, "from:olivia") == []


def test_direct_messages_are_found_by_the_two_participants_only(cast, found):
    direct, _ = messaging_services.direct_open(actor=cast.owner, username="nora")
    messaging_services.message_send(actor=cast.outsider, conversation_id=direct.pk, body="secret salary talk")
    assert found(cast.owner, "salary") == ["secret salary talk"]
    assert found(cast.outsider, "salary") == ["secret salary talk"]
    assert found(cast.member, "salary") == []


def test_a_removed_member_finds_nothing_new_or_old(cast, found):
    send(cast.owner, cast.general, "old roadmap")
    assert found(cast.member, "roadmap") == ["old roadmap"]
    group_services.member_remove(actor=cast.owner, group_id=cast.group.pk, username="mia")
    send(cast.owner, cast.general, "new roadmap")
    assert found(cast.member, "roadmap") == []
    assert found(cast.owner, "roadmap") == ["new roadmap", "old roadmap"]


def test_deleted_messages_never_match(cast, found):
    message = send(cast.member, cast.general, "embarrassing typo")
    messaging_services.message_delete(actor=cast.member, conversation_id=cast.general.pk, seq=message.seq)
    assert found(cast.member, "embarrassing") == []
    assert found(cast.owner, "from:mia") == []


def test_an_edited_message_matches_its_current_text_only(cast, found):
    message = send(cast.member, cast.general, "meeting on monday")
    messaging_services.message_edit(
        actor=cast.member, conversation_id=cast.general.pk, seq=message.seq, body="meeting on tuesday"
    )
    assert found(cast.owner, "monday") == []
    assert found(cast.owner, "tuesday") == ["meeting on tuesday"]


def test_a_deleted_group_leaves_nothing_to_find(cast, found):
    send(cast.member, cast.general, "farewell party")
    group_services.group_delete(actor=cast.owner, group_id=cast.group.pk)
    assert found(cast.owner, "farewell") == []
    assert found(cast.member, "farewell") == []
