"""`manage.py chat_stats [--json] [--top N]`: how much the chat is used, for operators and monitoring.

"Active" users are counted two ways, both labelled: by messages sent (a user who
wrote at least one message in the window) and by logins (`last_login` in the
window; a long-lived session does not log in again, so this undercounts).
"""

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from groups.models import Group
from messaging.models import Conversation, Message


def _senders_since(since) -> int:
    return Message.objects.filter(created_at__gte=since, author__isnull=False).values("author").distinct().count()


def collect_stats(*, top: int = 5) -> dict[str, Any]:
    """Every number in one dict (the --json shape). A dozen aggregate queries, none per row."""
    now = timezone.now()
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    conversations = dict(Conversation.objects.values_list("kind").annotate(n=Count("pk")).order_by())
    biggest = [
        {"id": pk, "name": name, "members": members}
        for pk, name, members in Group.objects.annotate(member_count=Count("memberships"))
        .order_by("-member_count", "pk")
        .values_list("id", "name", "member_count")[:top]
    ]
    message_counts = dict(
        Message.objects.filter(conversation__group_id__in=[g["id"] for g in biggest])
        .values_list("conversation__group_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for group in biggest:
        group["messages"] = message_counts.get(group["id"], 0)
    return {
        "generated_at": now.isoformat(),
        "users": {
            "total": User.objects.count(),
            "deactivated": User.objects.filter(is_active=False).count(),
            "sent_messages_24h": _senders_since(day),
            "sent_messages_7d": _senders_since(week),
            "logged_in_24h": User.objects.filter(last_login__gte=day).count(),
            "logged_in_7d": User.objects.filter(last_login__gte=week).count(),
        },
        "groups": {"total": Group.objects.count()},
        "conversations": {
            "total": sum(conversations.values()),
            "group": conversations.get(Conversation.Kind.GROUP, 0),
            "direct": conversations.get(Conversation.Kind.DIRECT, 0),
        },
        "messages": {
            "total": Message.objects.count(),
            "last_24h": Message.objects.filter(created_at__gte=day).count(),
            "last_7d": Message.objects.filter(created_at__gte=week).count(),
        },
        "biggest_groups": biggest,
    }


class Command(BaseCommand):
    help = (
        "Usage numbers: users (total, and active in the last 24 hours / 7 days counted both by messages sent "
        "and by logins), groups, conversations, messages (total and recent) and the biggest groups."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print one JSON document, for scripts and monitoring."
        )
        parser.add_argument("--top", type=int, default=5, help="How many of the biggest groups to list (default 5).")

    def handle(self, *args, as_json: bool, top: int, **options) -> None:
        if top < 0:
            raise CommandError("--top must be 0 or more.")
        stats = collect_stats(top=top)
        if as_json:
            self.stdout.write(json.dumps(stats, indent=2, ensure_ascii=False))
            return
        self._print(stats)

    def _print(self, stats: dict[str, Any]) -> None:
        users, conversations, messages = stats["users"], stats["conversations"], stats["messages"]
        lines = [
            f"Users:          {users['total']} ({users['deactivated']} deactivated)",
            f"  sent a message: {users['sent_messages_24h']} in the last 24 h, {users['sent_messages_7d']} in 7 days",
            f"  logged in:      {users['logged_in_24h']} in the last 24 h, {users['logged_in_7d']} in 7 days",
            f"Groups:         {stats['groups']['total']}",
            f"Conversations:  {conversations['total']} ({conversations['group']} in groups, "
            f"{conversations['direct']} direct)",
            f"Messages:       {messages['total']} ({messages['last_24h']} in the last 24 h, "
            f"{messages['last_7d']} in 7 days)",
        ]
        if stats["biggest_groups"]:
            lines.append("Biggest groups:")
            lines += [
                f"  {g['name']} (id {g['id']}): {g['members']} members, {g['messages']} messages"
                for g in stats["biggest_groups"]
            ]
        self.stdout.write("\n".join(lines))
