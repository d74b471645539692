"""`manage.py bench_sessions`: groups of bench users with logged-in sessions, for bench/run.py.

A load test needs hundreds of users with real session cookies; logging each one in
through the form would spend minutes in argon2. This command makes the users (with
unusable passwords: nobody can log in to them), puts them in groups through
group_create, optionally sends messages through message_send, and mints one session
per user in the configured session store, exactly what `login()` stores (and the
sessions page's row a login adds). It prints a
JSON plan: per user, the `sessionid` cookie and the conversation it belongs to.

Because those cookies are live logins, the command refuses to run with DEBUG off
unless --force is given (the benchmark runs against its own dedicated database).
"""

import json
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.names import search_name
from accounts.services import session_record
from groups import services as group_services
from messaging import services as messaging_services
from messaging.selectors import default_conversation

MAX_USERS = 20_000


class Command(BaseCommand):
    help = (
        "Create GROUPS groups of MEMBERS bench users with logged-in sessions and print a JSON plan "
        "(cookie and conversation per user). Refuses to run with DEBUG off unless --force."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--prefix", required=True, help="Username prefix; must be new (e.g. bench-fanout-1).")
        parser.add_argument("--groups", type=int, default=1, help="Number of groups (default 1).")
        parser.add_argument("--members", type=int, default=10, help="Members per group, owner included (default 10).")
        parser.add_argument(
            "--messages", type=int, default=0, help="Messages sent to each group's conversation, round-robin."
        )
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off (dedicated bench DB).")

    def handle(self, *args, prefix: str, groups: int, members: int, messages: int, force: bool, **options) -> None:
        if not settings.DEBUG and not force:
            raise CommandError(
                "bench_sessions creates logged-in sessions, so it refuses to run with DEBUG off. "
                "Use --force against a dedicated benchmark database."
            )
        if groups < 1 or members < 1 or messages < 0:
            raise CommandError("--groups and --members must be at least 1, --messages at least 0.")
        if groups * members > MAX_USERS:
            raise CommandError(f"At most {MAX_USERS} users per run.")
        if User.objects.filter(username__startswith=f"{prefix}-").exists():
            raise CommandError(f"Users named {prefix}-… already exist; choose a new --prefix.")

        clients = []
        conversations = []
        for g in range(groups):
            users = self._users(prefix, g, members)
            group = group_services.group_create(
                actor=users[0], name=f"{prefix} {g}", member_usernames=[u.username for u in users[1:]]
            )
            conversation = default_conversation(group)
            for k in range(messages):
                messaging_services.message_send(
                    actor=users[k % members],
                    conversation_id=conversation.pk,
                    body=f"bench message {k}",
                    check_rate=False,
                )
            conversations.append(conversation.pk)
            clients += [{"cookie": self._session_cookie(u), "conversations": [conversation.pk]} for u in users]
        self.stdout.write(json.dumps({"conversations": conversations, "clients": clients}))

    @staticmethod
    def _users(prefix: str, group: int, members: int) -> list[User]:
        users = [
            User(username=f"{prefix}-{group}-{m}", email=f"{prefix}-{group}-{m}@bench.invalid") for m in range(members)
        ]
        for user in users:
            user.set_unusable_password()
            user.search_name = search_name(user.username, "")  # bulk_create skips User.save
        return User.objects.bulk_create(users)

    @staticmethod
    def _session_cookie(user: User) -> str:
        """A session holding what django.contrib.auth.login() stores, as a Cookie header value."""
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        # What a login through the form adds (accounts.apps: on `user_logged_in`): the sessions page's row.
        session_record(session_key=store.session_key, user=user, user_agent="bench", address="127.0.0.1")
        return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
