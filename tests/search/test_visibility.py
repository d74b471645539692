"""Results come only from what the user can see at the moment of the query."""

from groups import services as group_services
from messaging import services as messaging_services


def test_an_outsider_finds_nothing_of_the_group(team, say, found):
    say(team.owner, team.general, "quarterly numbers")
    assert found(team.member, "quarterly") == ["quarterly numbers"]
    assert found(team.outsider, "quarterly") == []
    assert found(team.outsider, "from:olivia") == []


def test_direct_messages_are_found_by_the_two_participants_only(team, found):
    direct, _ = messaging_services.direct_open(actor=team.owner, username="nora")
    messaging_services.message_send(actor=team.outsider, conversation_id=direct.pk, body="secret salary talk")
    assert found(team.owner, "salary") == ["secret salary talk"]
    assert found(team.outsider, "salary") == ["secret salary talk"]
    assert found(team.member, "salary") == []


def test_a_removed_member_finds_nothing_new_or_old(team, say, found):
    say(team.owner, team.general, "old roadmap")
    assert found(team.member, "roadmap") == ["old roadmap"]
    group_services.member_remove(actor=team.owner, group_id=team.group.pk, username="mia")
    say(team.owner, team.general, "new roadmap")
    assert found(team.member, "roadmap") == []
    assert found(team.owner, "roadmap") == ["new roadmap", "old roadmap"]


def test_deleted_messages_never_match(team, say, found):
    message = say(team.member, team.general, "embarrassing typo")
    messaging_services.message_delete(actor=team.member, conversation_id=team.general.pk, seq=message.seq)
    assert found(team.member, "embarrassing") == []
    assert found(team.owner, "from:mia") == []


def test_an_edited_message_matches_its_current_text_only(team, say, found):
    message = say(team.member, team.general, "meeting on monday")
    messaging_services.message_edit(
        actor=team.member, conversation_id=team.general.pk, seq=message.seq, body="meeting on tuesday"
    )
    assert found(team.owner, "monday") == []
    assert found(team.owner, "tuesday") == ["meeting on tuesday"]


def test_a_deleted_group_leaves_nothing_to_find(team, say, found):
    say(team.member, team.general, "farewell party")
    group_services.group_delete(actor=team.owner, group_id=team.group.pk)
    assert found(team.owner, "farewell") == []
    assert found(team.member, "farewell") == []
