#!/usr/bin/env python3
"""Screenshots of the conversation page, desktop and phone, for the README (docs/screenshots/).

Starts the app on a free local port with a throwaway SQLite database (DEBUG=1),
seeds a few users, a group with a conversation and some messages through the
real services, logs in with a real browser (Playwright driving Debian's
chromium, /usr/bin/chromium) and saves:

- docs/screenshots/conversation-desktop.png (1280x800)
- docs/screenshots/conversation-phone.png (390x844)

Usage: .venv/bin/python scripts/screenshots.py [--out DIR]
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "screenshots are fun 42"  # noqa: S105  (a throwaway account in a temporary database)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Runs inside `manage.py shell -c`: everything goes through the app's own services.
SEED = r"""
from datetime import timedelta
from django.utils import timezone
from accounts import services as accounts
from groups import services as groups
from messaging import services as messaging
from messaging.models import Message

password = {password!r}
def person(username, display_name=""):
    email = f"{{username}}@example.com"
    return accounts.user_create(username=username, email=email, password=password, display_name=display_name)

alice = person("alice", "Alice Martin")
bob = person("bob", "Bob Chen")
carol = person("carol", "Carol Diaz")
dan = person("dan")

team = groups.group_create(actor=alice, name="Design team", member_usernames=["bob", "carol", "dan"])
groups.member_set_role(actor=alice, group_id=team.pk, username="bob", role="admin")
general = default_conversation(team)
launch = messaging.topic_create(actor=carol, group_id=team.pk, name="launch-plan")
book = groups.group_create(actor=bob, name="Book club", member_usernames=["alice"])
book_general = default_conversation(book)

script = [
    (alice, "Morning all! The new onboarding mockups are up: https://example.com/figma/onboarding"),
    (bob, "Nice, looking now."),
    (carol, "Love the illustrations. Should the sign-up button be above the fold on phones?"),
    (alice, "Good point. I'll move it up and keep the secondary link below."),
    (dan, "Small thing: the contrast on the grey helper text looks low to me."),
    (bob, "Agreed, it fails AA. Let's use #5f6b7a like the rest of the app."),
    (alice, "Done, updated both screens.\nAlso added the empty state for the chat list."),
    (carol, "<script>alert('hi')</script> ← this shows as text, as it should"),
    (bob, "Ship it 🚀 I'll tell the launch-plan channel."),
    (alice, "Thanks everyone! Review at 3pm?"),
]
start = timezone.now() - timedelta(minutes=5 * len(script) + 3)
for index, (author, body) in enumerate(script):
    message, _ = messaging.message_send(actor=author, conversation_id=general.pk, body=body)
    Message.objects.filter(pk=message.pk).update(created_at=start + timedelta(minutes=5 * index))
messaging.message_edit(actor=alice, conversation_id=general.pk, seq=7, body=script[6][1] + " 🙂")
for reader in (bob, carol):
    messaging.read_mark(actor=reader, conversation_id=general.pk, seq=len(script))

messaging.message_send(actor=carol, conversation_id=launch.pk, body="Draft timeline is in the doc, comments welcome.")
messaging.message_send(actor=dan, conversation_id=launch.pk, body="Can we move the press email to Tuesday?")
messaging.message_send(actor=bob, conversation_id=book_general.pk, body="Next book: The Left Hand of Darkness?")
direct, _ = messaging.direct_open(actor=carol, username="alice")
messaging.message_send(actor=carol, conversation_id=direct.pk, body="Lunch after the review?")
print(general.pk)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (our own local server)
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer at {url}")


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return result.stdout


def shoot(base_url: str, conversation_id: int, out: Path, *, extra: bool = False) -> None:
    """Log in as alice and capture the conversation page (with `extra`: the list, menus and forms too)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for name, viewport, mobile in (
                ("conversation-desktop.png", {"width": 1280, "height": 800}, False),
                ("conversation-phone.png", {"width": 390, "height": 844}, True),
            ):
                context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
                page = context.new_page()
                page.goto(f"{base_url}/accounts/login/")
                page.fill("input[name=username]", "alice")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base_url}/chats/")
                page.goto(f"{base_url}/chats/{conversation_id}/")
                page.wait_for_selector("#messages li.message")
                page.screenshot(path=str(out / name))
                print(f"saved {out / name}")
                if extra:
                    kind = "phone" if mobile else "desktop"
                    page.goto(f"{base_url}/chats/")
                    page.screenshot(path=str(out / f"list-{kind}.png"))
                    page.goto(f"{base_url}/chats/{conversation_id}/#members")
                    page.screenshot(path=str(out / f"members-{kind}.png"))
                    page.goto(f"{base_url}/chats/{conversation_id}/")
                    page.click("li.message.mine:last-child details.message-actions summary")
                    page.screenshot(path=str(out / f"menu-{kind}.png"))
                    page.fill("#id_body", "")
                    page.click("#composer button[type=submit]")
                    page.screenshot(path=str(out / f"error-{kind}.png"))
                    page.goto(f"{base_url}/dm/")
                    page.screenshot(path=str(out / f"dm-{kind}.png"))
                context.close()
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--extra", action="store_true", help="also capture the list, a message menu and forms")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")

    with tempfile.TemporaryDirectory(prefix="chat-screenshots-") as tmp:
        env = {
            **os.environ,
            "DEBUG": "1",
            "SECRET_KEY": "screenshots-only",
            "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput")
        conversation_id = int(manage(env, "shell", "-c", SEED.format(password=PASSWORD)).strip().splitlines()[-1])
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_for(f"{base_url}/accounts/login/")
            shoot(base_url, conversation_id, args.out, extra=args.extra)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
