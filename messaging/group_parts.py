"""The conversations' part of a group (groups/registry.py): groups knows nothing of messaging, so
messaging attaches here what a group holds and how its members' sockets hear of changes.

- A new group gets its first conversation, "general"; its members' sockets get `conversation.added`.
- New members start with the group's history read (their read marker at each conversation's last
  seq: messages from before they joined are not news), then their sockets get `conversation.added`
  for every conversation of the group.
- Members about to leave (or the whole group, about to be deleted) lose its conversations on their
  sockets (`conversation.removed`), published after the commit.
- A member lands in the group's first conversation; the group page lists its conversations.
"""

from django.urls import reverse

from accounts.models import User
from messaging import events, services
from messaging.models import Conversation
from messaging.selectors import default_conversation, group_conversations
from messaging.serializers import conversation_json

DEFAULT_CONVERSATION = "general"


def _announce(group, user_ids) -> None:
    conversations = list(group_conversations(group.pk).select_related("group"))
    for user in User.objects.filter(pk__in=list(user_ids)):
        for conversation in conversations:
            events.conversation_added(user.pk, conversation_json(conversation, user))


def joined(group, user_ids) -> None:
    services.read_marks_start(group_id=group.pk, user_ids=user_ids)
    _announce(group, user_ids)


def created(group, user_ids) -> None:
    Conversation.objects.create(kind=Conversation.Kind.GROUP, group=group, name=DEFAULT_CONVERSATION)
    _announce(group, user_ids)


def leaving(group, user_ids) -> None:
    events.conversations_removed(user_ids, list(group_conversations(group.pk).values_list("pk", flat=True)))


def landing_url(group) -> str | None:
    conversation = default_conversation(group)
    return reverse("messaging:conversation", args=[conversation.pk]) if conversation else None


def page_context(group, viewer) -> dict:
    return {"conversations": list(group_conversations(group.pk))}


def register() -> None:
    from groups import registry

    registry.on_created(created)
    registry.on_joined(joined)
    registry.on_leaving(leaving)
    registry.set_landing(landing_url)
    registry.add_page_part(page_context)
