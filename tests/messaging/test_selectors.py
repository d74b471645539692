"""The hand-written reads of the conversation page agree with the ORM's rules.

`conversations_for_user` repeats `messaging.access.visible_to` and the unread rule of
`messaging.unread` in SQL; these tests hold the two side by side for every kind of user. The
reactions and files of a page of messages are read in SQL too, held to their ORM form, and the
model instances made of the rows (`rawsql.instances`) to those `from_db` makes.
"""

import pytest
from django.db.models.signals import post_init

from accounts import services as account_services
from accounts.models import User
from groups import services as group_services
from groups.models import Group
from messaging import rawsql, selectors, services
from messaging.access import visible_to
from messaging.models import Attachment, Conversation, Message, Reaction
from messaging.selectors import default_conversation
from messaging.serializers import conversation_title
from tests.conftest import send
from tests.messaging import unread_rule
from tests.messaging.files import PDF, form_send, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, make_user, alice, bob):
    """Groups, topics and directs, some read, some deleted, one with a deleted author."""
    other = group_services.group_create(actor=alice, name="Other", member_usernames=["bob"])
    other_general = default_conversation(other)
    topic = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="planning")
    services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="empty")
    direct, _ = services.direct_open(actor=cast.member, username=cast.owner.username)
    lonely, _ = services.direct_open(actor=alice, username=cast.member.username)
    leaver = make_user("leaver")
    gone_direct, _ = services.direct_open(actor=leaver, username=cast.member.username)
    for n in range(4):
        send(cast.owner, cast.general, f"general {n}")
        send(cast.member, cast.general, f"mine {n}")
    send(cast.admin, topic, "topic one")
    deleted = send(cast.admin, topic, "topic two")
    services.message_delete(actor=cast.admin, conversation_id=topic.pk, seq=deleted.seq)
    send(cast.owner, direct, "direct hi")
    send(alice, lonely, "from alice")
    send(alice, other_general, "other group")
    send(leaver, gone_direct, "bye")
    account_services.user_delete(user=leaver)
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=3)
    services.read_mark(actor=cast.owner, conversation_id=direct.pk, seq=1)
    return cast


def test_sidebar_agrees_with_visible_to_and_unread_count(world, alice, bob):
    for user in (world.owner, world.admin, world.member, world.other_member, world.outsider, alice, bob):
        rows = selectors.conversations_for_user(user)
        expected = Conversation.objects.filter(visible_to(user))
        assert sorted(c.pk for c in rows) == sorted(expected.values_list("pk", flat=True)), user
        for row in rows:
            assert row.unread == unread_rule.unread_count(user, row.pk), (user, row)


def test_sidebar_order_titles_previews_and_read_seq(world):
    rows = selectors.conversations_for_user(world.member)
    ordered = sorted(rows, key=lambda c: (c.last_message_at is not None, c.last_message_at, c.created_at, c.pk))
    assert [c.pk for c in rows] == [c.pk for c in reversed(ordered)]
    general = next(c for c in rows if c.pk == world.general.pk)
    assert (general.read_seq, general.unread, general.last_body, general.last_deleted) == (3, 2, "mine 3", False)
    assert general.group.name == "Team"
    topic = next(c for c in rows if c.name == "planning")
    assert topic.last_deleted and topic.last_body == ""
    empty = next(c for c in rows if c.name == "empty")
    assert empty.last_seq == 0 and empty.last_body is None and empty.unread == 0
    titles = sorted(conversation_title(c, world.member) for c in rows if c.is_direct)
    assert titles == ["Alice A.", "Olivia", "deleted user"]


def test_messages_page_bounds(cast):
    for n in range(1, 8):
        send(cast.owner if n % 2 else cast.member, cast.general, f"m{n}")
    page = selectors.messages_page

    def seqs(**kwargs):
        messages, more = page(cast.general, **kwargs)
        return [m.seq for m in messages], more

    assert seqs(limit=3) == ([5, 6, 7], True)
    assert seqs(limit=7) == ([1, 2, 3, 4, 5, 6, 7], False)
    assert seqs(before=5, limit=3) == ([2, 3, 4], True)
    assert seqs(before=4, limit=3) == ([1, 2, 3], False)
    assert seqs(after=2, limit=3) == ([3, 4, 5], True)
    assert seqs(after=4, limit=3) == ([5, 6, 7], False)
    assert seqs(after=2, before=5, limit=5) == ([3, 4], False)
    assert seqs(after=2**70) == ([], False)
    assert seqs(before=2**70, limit=2) == ([6, 7], True)
    messages, _ = page(cast.general, limit=2)
    assert [m.author.name for m in messages] == ["Mia", "Olivia"]
    assert messages[-1].body == "m7" and messages[-1].conversation_id == cast.general.pk


def test_members_carry_role_and_read_marker(cast, alice):
    send(cast.owner, cast.general, "one")
    send(cast.owner, cast.general, "two")
    services.read_mark(actor=cast.admin, conversation_id=cast.general.pk, seq=2)
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=1)
    members = selectors.conversation_members(cast.general)
    assert [(m.username, m.role, m.read_seq) for m in members] == [
        ("adam", "admin", 2),
        ("max", "member", 0),
        ("mia", "member", 1),
        ("olivia", "owner", 0),
    ]
    assert [m.username for m in selectors.conversation_members(cast.general, limit=2)] == ["adam", "max"]
    direct, _ = services.direct_open(actor=alice, username=cast.member.username)
    send(alice, direct, "hi")
    services.read_mark(actor=cast.member, conversation_id=direct.pk, seq=1)
    participants = selectors.conversation_members(direct)
    assert [(m.username, m.role, m.read_seq) for m in participants] == [("alice", None, 0), ("mia", None, 1)]


def test_reactions_read_as_the_orm_reads_them(cast):
    """`reactors_by_message`'s SQL against its ORM form: emoji in the order first used, reactors oldest first."""
    messages = [send(cast.owner, cast.general, f"m{n}") for n in range(4)]
    toggles = [
        (cast.member, 0, "👍"),
        (cast.admin, 0, "🎉"),
        (cast.owner, 0, "👍"),
        (cast.admin, 2, "❤️"),
        (cast.member, 2, "❤️"),
        (cast.member, 2, "👨‍👩‍👧"),
        (cast.owner, 3, "👍"),
        (cast.owner, 3, "👍"),  # taken back
    ]
    for user, index, emoji in toggles:
        services.reaction_toggle(actor=user, conversation_id=cast.general.pk, seq=messages[index].seq, emoji=emoji)
    ids = [m.pk for m in messages]
    expected: dict = {}
    rows = (
        Reaction.objects.filter(message_id__in=ids)
        .order_by("message_id", "created_at", "pk")
        .values_list("message_id", "emoji", "user_id")
    )
    for message_id, emoji, user_id in rows:
        expected.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    found = selectors.reactors_by_message(ids)
    assert found == expected
    assert found[ids[0]] == {"👍": [cast.member.pk, cast.owner.pk], "🎉": [cast.admin.pk]}
    assert list(found[ids[2]]) == ["❤️", "👨‍👩‍👧"] and ids[1] not in found and ids[3] not in found
    assert selectors.reactors_by_message([]) == {}


@pytest.mark.parametrize("media", ["filesystem"], indirect=True)
def test_attachments_read_as_the_orm_reads_them(cast, login, media):
    """`load_for_messages`'s SQL against its ORM form: each message's files in their order, all fields."""
    client = login(cast.member)
    files = [("b.pdf", PDF, "application/pdf"), ("a.png", image_bytes(), "image/png"), ("c.pdf", PDF, "text/plain")]
    form_send(client, cast.general.pk, "three files", files=files)
    send(cast.member, cast.general, "none")
    form_send(client, cast.general.pk, "", files=[("d.pdf", PDF, "application/pdf")])
    messages, _ = selectors.messages_page(cast.general)
    assert [len(m.attachment_list) for m in messages] == [3, 0, 1]
    for message in messages:
        expected = list(Attachment.objects.filter(message_id=message.pk).order_by("position"))
        assert [a.pk for a in message.attachment_list] == [a.pk for a in expected]
        for got, want in zip(message.attachment_list, expected, strict=True):
            assert {f.attname: getattr(got, f.attname) for f in Attachment._meta.concrete_fields} == {
                f.attname: getattr(want, f.attname) for f in Attachment._meta.concrete_fields
            }
    assert [a.name for a in messages[0].attachment_list] == ["b.pdf", "a.png", "c.pdf"]
    assert messages[0].attachment_list[1].thumbnail and messages[0].attachment_list[1].width == 640


def _fields(instance) -> dict:
    return {name: value for name, value in instance.__dict__.items() if name != "_state"}


def test_instances_are_the_ones_from_db_makes(cast):
    """`rawsql.instances` skips Model.__init__: the same fields set, the same state, the rest deferred."""
    message = send(cast.owner, cast.general, "hello")
    names = [f.attname for f in Message._meta.concrete_fields]
    values = [getattr(message, name) for name in names]
    built = rawsql.instances(Message, "default", names)(values)
    expected = Message.from_db("default", names, values)
    assert _fields(built) == _fields(expected)
    assert (built._state.db, built._state.adding) == (expected._state.db, expected._state.adding) == ("default", False)
    assert built == expected and built.pk == message.pk and built.author_id == cast.owner.pk
    assert built.author == cast.owner  # a relation still loads
    partial = rawsql.instances(User, "default", ["id", "username"])([cast.owner.pk, cast.owner.username])
    assert _fields(partial) == _fields(User.from_db("default", ["id", "username"], [cast.owner.pk, "olivia"]))
    assert partial.get_deferred_fields() >= {"email", "display_name"}
    assert partial.display_name == cast.owner.display_name  # a deferred field is read when used
    with pytest.raises(ValueError):  # a row of the wrong width is an error, not a half-built instance
        rawsql.instances(User, "default", ["id", "username"])([1])


def test_instances_go_through_init_when_a_receiver_listens(cast):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Group)
    try:
        group = rawsql.instances(Group, "default", ["id", "name"])([cast.group.pk, "Team"])
    finally:
        post_init.disconnect(receiver, sender=Group)
    assert seen == [group] and group.name == "Team" and not group._state.adding


def test_a_page_asks_for_files_and_reactions_only_when_it_has_some(cast, django_assert_num_queries):
    messages = [send(cast.owner, cast.general, f"m{n}") for n in range(3)]
    with django_assert_num_queries(1):  # the page; no message has files or reactions
        page, _ = selectors.messages_page(cast.general)
        selectors.attach_reactions(page, cast.member.pk)
    assert [(m.attachment_list, m.reaction_list) for m in page] == [([], [])] * 3
    services.reaction_toggle(actor=cast.admin, conversation_id=cast.general.pk, seq=messages[1].seq, emoji="👍")
    with django_assert_num_queries(2):  # and the reactions of the one message that has some
        page, _ = selectors.messages_page(cast.general)
        selectors.attach_reactions(page, cast.admin.pk)
    assert [m.has_reactions for m in page] == [False, True, False]
    assert page[1].reaction_list == [{"emoji": "👍", "count": 1, "users": [cast.admin.pk], "mine": True}]
