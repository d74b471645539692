"""`manage.py seed_demo`: demo users, groups, topics, direct conversations and a few hundred messages.

So a newcomer sees a lively chat right after `make seed` / `make run`. Everything
goes through the real services (group_create, topic_create, direct_open,
message_send), so the data obeys every rule the app does. Running it again
creates nothing new: users and groups are found by name, topics by their unique
name, directs by pair, and messages by their `client_id` (the idempotency key
message_send already honours).
"""

import random
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from groups import services as group_services
from groups.models import Group, Membership
from messaging import services as messaging_services
from messaging.models import Conversation, Message

USERS = [
    ("ada", "Ada Lovelace"),
    ("grace", "Grace Hopper"),
    ("alan", "Alan Turing"),
    ("katherine", "Katherine Johnson"),
    ("linus", "Linus T."),
    ("margaret", "Margaret Hamilton"),
]

GROUPS = [
    {
        "name": "Engineering",
        "description": "Building and running the chat.",
        "owner": "ada",
        "members": ["grace", "alan", "katherine", "linus", "margaret"],
        "admins": ["grace"],
        "topics": {"general": 90, "deploys": 40, "code review": 40},
    },
    {
        "name": "Book club",
        "description": "One book a month, opinions welcome.",
        "owner": "grace",
        "members": ["ada", "katherine", "margaret"],
        "admins": [],
        "topics": {"general": 40, "next pick": 20},
        "public": True,  # listed at /groups/: a new account has something to join
    },
    {
        "name": "Lunch",
        "description": "Where and when.",
        "owner": "alan",
        "members": ["ada", "grace", "linus"],
        "admins": [],
        "topics": {"general": 30},
    },
]

DIRECTS = {("ada", "grace"): 24, ("ada", "alan"): 16, ("grace", "margaret"): 14}

LINES = {
    "general": [
        "Morning all!",
        "Has anyone seen the new dashboard yet?",
        "Coffee machine on the third floor is fixed, finally.",
        "I'll be a bit late to stand-up.",
        "Nice work on yesterday's release, everyone.",
        "Quick question: who owns the calendar integration?",
        "Back from lunch.",
        "That's a great idea, let's try it.",
        "Can someone review my notes before the meeting?",
        "Thanks, that helped a lot!",
        "I'm heading out, see you tomorrow.",
        "Reminder: demo at 4pm today.",
        "Agreed.",
        "Let me check and get back to you.",
        "Does Friday work for everyone?",
    ],
    "deploys": [
        "Deploying 2.14 to staging now.",
        "Staging looks good, migrations ran in 3 seconds.",
        "Rolling out to production, one process at a time.",
        "Health checks are green on all nodes.",
        "Holding the deploy, one test is flaky.",
        "Rolled back, the cache key change needs another look.",
        "Deploy done. Watching the error rate for a bit.",
        "Static files collected, new hashes are live.",
    ],
    "code review": [
        "Pushed a fix for the unread counter, please take a look.",
        "Left a few comments, mostly naming.",
        "Looks good to me, approving.",
        "Could we add a test for the empty case?",
        "Good catch, fixed in the latest commit.",
        "This query runs once per row, can we prefetch?",
        "Merged. Thanks for the careful review.",
    ],
    "next pick": [
        "How about something short this time?",
        "I vote for the one about the Apollo guidance computer.",
        "Already read it, happy to reread though.",
        "Library has three copies.",
        "Let's decide by Sunday.",
    ],
    "direct": [
        "Hey, got a minute?",
        "Sure, what's up?",
        "Can you pair with me on the export command later?",
        "Yes, after three works.",
        "Thanks for covering for me this morning.",
        "No problem at all.",
        "Did you get my notes?",
        "Got them, reading now.",
        "Sounds good, talk soon.",
    ],
}


@dataclass
class Script:
    """What to write into one conversation: `count` lines picked from `lines` by `authors`."""

    key: str  # stable name, part of every message's client_id
    conversation: Conversation
    authors: list[User]
    count: int
    lines: list[str]


@dataclass
class Tally:
    users: int = 0
    groups: int = 0
    topics: int = 0
    directs: int = 0
    messages: int = 0
    new: dict[str, int] = field(default_factory=lambda: {"users": 0, "groups": 0, "topics": 0, "directs": 0})
    new_messages: int = 0


class Command(BaseCommand):
    help = (
        "Create demo users, groups, topics, direct conversations and a few hundred messages, "
        "so a new installation has a lively chat to look at. Safe to run again: it creates nothing twice. "
        "Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (demo accounts on a real site)."
        )
        parser.add_argument(
            "--password",
            help="Password for new demo users (default: a random one, printed once).",
        )
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="Give the existing demo users a new password too, and print it.",
        )

    def handle(self, *args, force: bool, password: str | None, reset_password: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts anyone could log in to, so it refuses to run with DEBUG off. "
                "Use --force if you really want demo data here."
            )
        if password is not None:
            try:
                validate_password(password)
            except ValidationError as error:
                raise CommandError("--password: " + " ".join(error.messages)) from None
        password = password or secrets.token_urlsafe(12)

        tally = Tally()
        with transaction.atomic():
            users, created_users = self._users(password, reset_password, tally)
            scripts = self._groups(users, tally) + self._directs(users, tally)
            self._messages(scripts, users, tally)

        self._report(tally, created_users, password, reset_password)

    # Users, groups, conversations

    def _users(self, password: str, reset_password: bool, tally: Tally) -> tuple[dict[str, User], list[str]]:
        users: dict[str, User] = {}
        created: list[str] = []
        for username, display_name in USERS:
            user = User.objects.filter(username__iexact=username).first()
            if user is None:
                user = account_services.user_create(
                    username=username, email=f"{username}@example.com", password=password, display_name=display_name
                )
                created.append(username)
            elif reset_password:
                user.set_password(password)
                user.save(update_fields=["password"])
            if not user.is_active:
                raise CommandError(f"The demo user {username} exists but is deactivated; not seeding around it.")
            users[username] = user
        tally.users = len(users)
        tally.new["users"] = len(created)
        return users, created

    def _groups(self, users: dict[str, User], tally: Tally) -> list[Script]:
        """Each group with its topics, and what to write into them."""
        out = []
        for spec in GROUPS:
            owner = users[spec["owner"]]
            group = (
                Group.objects.filter(
                    name=spec["name"], memberships__user=owner, memberships__role=Membership.Role.OWNER
                )
                .order_by("pk")
                .first()
            )
            group_is_new = group is None
            if group_is_new:
                group = group_services.group_create(
                    actor=owner,
                    name=spec["name"],
                    description=spec["description"],
                    member_usernames=spec["members"],
                    is_public=spec.get("public", False),
                )
                for username in spec["admins"]:
                    group_services.member_set_role(actor=owner, group_id=group.pk, username=username, role="admin")
                tally.new["groups"] += 1
            tally.groups += 1
            authors = [users[spec["owner"]], *(users[name] for name in spec["members"])]
            for topic, count in spec["topics"].items():
                conversation = group.conversations.filter(name__iexact=topic).first()
                if conversation is None:
                    conversation = messaging_services.topic_create(actor=owner, group_id=group.pk, name=topic)
                    tally.new["topics"] += 1
                elif group_is_new:  # its "general", made with the group
                    tally.new["topics"] += 1
                tally.topics += 1
                lines = LINES.get(topic, LINES["general"])
                out.append(Script(f"{spec['name']}/{topic}", conversation, authors, count, lines))
        return out

    def _directs(self, users: dict[str, User], tally: Tally) -> list[Script]:
        out = []
        for (first, second), count in DIRECTS.items():
            conversation, created = messaging_services.direct_open(actor=users[first], username=second)
            tally.directs += 1
            tally.new["directs"] += int(created)
            authors = [users[first], users[second]]
            out.append(Script(f"direct/{first}/{second}", conversation, authors, count, LINES["direct"]))
        return out

    # Messages

    def _messages(self, scripts: list[Script], users: dict[str, User], tally: Tally) -> None:
        already = set(
            Message.objects.filter(author__in=users.values(), client_id__startswith="demo:").values_list(
                "author_id", "client_id"
            )
        )
        for script in scripts:
            rng = random.Random(script.key)  # the same script on every run, so client ids line up
            created = []
            for number in range(script.count):
                author = rng.choice(script.authors)
                body = rng.choice(script.lines)
                client_id = f"demo:{script.key}:{number}"[:64]
                tally.messages += 1
                if (author.pk, client_id) in already:
                    continue
                message, was_created = messaging_services.message_send(
                    actor=author,
                    conversation_id=script.conversation.pk,
                    body=body,
                    client_id=client_id,
                    check_rate=False,
                )
                if was_created:
                    created.append(message)
            tally.new_messages += len(created)
            self._spread_over_recent_days(script.conversation, created)

    @staticmethod
    def _spread_over_recent_days(conversation: Conversation, created: list[Message]) -> None:
        """Back-date the new messages over the last three days, in seq order, so the demo reads like a real chat."""
        if not created:
            return
        now = timezone.now()
        earlier = (
            Message.objects.filter(conversation=conversation)
            .exclude(pk__in=[m.pk for m in created])
            .aggregate(latest=Max("created_at"))["latest"]
        )
        start = max(now - timedelta(days=3), earlier or now - timedelta(days=3))
        step = (now - start) / (len(created) + 1)
        for index, message in enumerate(sorted(created, key=lambda m: m.seq), start=1):
            message.created_at = start + step * index
        Message.objects.bulk_update(created, ["created_at"])
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=created[-1].created_at)

    # Output

    def _report(self, tally: Tally, created_users: list[str], password: str, reset_password: bool) -> None:
        new = tally.new
        self.stdout.write(
            f"Demo data: {tally.users} users ({new['users']} new), {tally.groups} groups ({new['groups']} new), "
            f"{tally.topics} group conversations ({new['topics']} new), {tally.directs} direct conversations "
            f"({new['directs']} new), {tally.messages} messages ({tally.new_messages} new)."
        )
        usernames = ", ".join(username for username, _ in USERS)
        if created_users or reset_password:
            who = "all demo users" if reset_password else ", ".join(created_users)
            self.stdout.write(self.style.SUCCESS(f"Password for {who} (shown only now): {password}"))
            self.stdout.write(f"Log in as any of: {usernames}.")
        else:
            self.stdout.write(
                f"The demo users ({usernames}) already existed; their password was shown when they were created. "
                "Run again with --reset-password to set a new one."
            )
