import io
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.test import Client

from accounts import services as account_services
from groups import services as group_services
from messaging import services as messaging_services
from messaging.models import Message
from messaging.selectors import default_conversation

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _clear_own_cache() -> None:
    """Delete this run's cache keys only: Redis's FLUSHDB (cache.clear) would also wipe
    the keys of other test runs sharing the database under another CACHE_KEY_PREFIX."""
    backend = caches["default"]
    if isinstance(backend, RedisCache) and backend.key_prefix:
        client = backend._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{backend.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        return
    cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttling counters and presence live in the cache: start every test clean."""
    _clear_own_cache()
    yield
    _clear_own_cache()


@pytest.fixture
def fast_hashing(settings):
    """A cheap password hasher: argon2's deliberate cost buys nothing in tests that make users and log
    them in; nothing else changes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Test folders that keep the real hasher: the accounts tests test it (and opt in to `fast_hashing` where
# they make dozens of attempts), and the browser tests log in to a server process that uses it.
REAL_HASHING = {"accounts", "e2e"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(request):
    if Path(request.node.path).parent.name not in REAL_HASHING:
        request.getfixturevalue("fast_hashing")


@pytest.fixture
def make_user(db):
    def make(username: str, **extra):
        email = extra.pop("email", f"{username}@example.com")
        return account_services.user_create(username=username, email=email, password=PASSWORD, **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", display_name="Alice A.")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def client_for(user) -> Client:
    """A test client with that user's session (None: anonymous)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def login():
    """`login(user)`: `client_for` as a fixture."""
    return client_for


def send(user, conversation, body: str = "hello", **extra) -> Message:
    """Store a message through the real service (`reply_to=`, `attachments=` pass through); the message."""
    message, _created = messaging_services.message_send(actor=user, conversation_id=conversation.pk, body=body, **extra)
    return message


@pytest.fixture
def run_command():
    """`call_command` returning what the command printed on stdout."""

    def run(*args, **options) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out, **options)
        return out.getvalue()

    return run


@dataclass
class Team:
    """alice owns "Team" with bob as a member; carol is in no group with them."""

    alice: object
    bob: object
    carol: object
    group: object
    general: object


@pytest.fixture
def team(alice, bob, carol) -> Team:
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    return Team(alice, bob, carol, group, default_conversation(group))


@dataclass
class Cast:
    """The group "Team" with one user in every role, and an outsider (`cast`); with a second admin
    and a newcomer (ada, nick) in the group tests."""

    group: object
    general: object
    owner: object  # olivia
    admin: object  # adam
    member: object  # mia
    other_member: object  # max
    outsider: object  # nora: logged in, in no group with them
    other_admin: object = None  # ada
    newcomer: object = None  # nick: someone to add


def build_cast(make_user, *, second_admin: bool = False) -> Cast:
    """Build the cast through the real services (users, the group, roles)."""
    names = ["olivia", "adam", "ada", "mia", "max", "nora", "nick"]
    if not second_admin:
        names = [name for name in names if name not in ("ada", "nick")]
    users = {name: make_user(name, display_name=name.title()) for name in names}
    group = group_services.group_create(
        actor=users["olivia"],
        name="Team",
        description="Where the team talks.",
        member_usernames=[name for name in names if name not in ("olivia", "nora", "nick")],
    )
    for name in ("adam", "ada") if second_admin else ("adam",):
        group_services.member_set_role(actor=users["olivia"], group_id=group.pk, username=name, role="admin")
    return Cast(
        group=group,
        general=default_conversation(group),
        owner=users["olivia"],
        admin=users["adam"],
        member=users["mia"],
        other_member=users["max"],
        outsider=users["nora"],
        other_admin=users.get("ada"),
        newcomer=users.get("nick"),
    )


@pytest.fixture
def cast(make_user) -> Cast:
    return build_cast(make_user)


@pytest.fixture(autouse=True)
def _message_rate_out_of_the_way(settings):
    """Tests set up history by sending through the services, dozens at a time; the tests of the
    per-user message rate (tests/messaging/test_rate_limit.py) set their own limit."""
    settings.MESSAGE_RATE_LIMIT = 1_000_000


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    """Jobs run as they are enqueued, so a test sees their outcome at once. Tests of the queue
    itself use `database_tasks` and run the worker (`manage.py db_worker --batch`)."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def database_tasks(settings):
    """The production queue: jobs are rows in the database until a worker runs them."""
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def run_worker(transactional_db, run_command):
    """Run every due job the way production's worker does, then return. The worker commits and
    closes connections as in production, so tests using it run outside a test transaction."""

    def run() -> None:
        run_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0")

    return run


class Mailbox:
    """What a real SMTP server, listening in this process, received."""

    def __init__(self):
        self.messages = []

    def handle_message(self, message) -> None:  # aiosmtpd's Message handler hook
        self.messages.append(message)

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    @staticmethod
    def text(message) -> str:
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                return part.get_payload(decode=True).decode()
        return ""

    @staticmethod
    def html(message) -> str:
        for part in message.walk():
            if part.get_content_type() == "text/html":
                return part.get_payload(decode=True).decode()
        return ""

    @staticmethod
    def links(message) -> list[str]:
        return re.findall(r"https?://\S+", Mailbox.text(message))


@pytest.fixture
def mailbox(settings):
    """A real SMTP server (aiosmtpd) on a free local port; the site sends to it over SMTP."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    box = Mailbox()

    class Handler(Message):
        def handle_message(self, message) -> None:
            box.handle_message(message)

    with socket.socket() as probe:  # a free port (aiosmtpd checks its server by connecting to the port it was given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.SITE_URL = "http://testserver"
    try:
        yield box
    finally:
        controller.stop()
