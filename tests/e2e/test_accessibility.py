"""axe-core (WCAG 2.1 A and AA, best practices) on every page a visitor or a member can reach, at
desktop and phone widths, light and dark, with the dialogs open where a page has them.

One server, one browser and one page per user serve the whole module: the data is made once,
committed, and flushed when the module ends, as a transactional test would leave it.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyotp
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from accounts import two_factor
from accounts.unsubscribe import unsubscribe_token
from groups.services import group_create, invite_create
from messaging.selectors import default_conversation
from messaging.services import direct_open, message_send, reaction_toggle, topic_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    TIMEOUT_MS,
    accessibility_violations,
    assert_accessible,
    connected,
    describe_violations,
    login,
)
from tests.servers import AppServer, server_env

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db")]

expect.set_options(timeout=TIMEOUT_MS)

# Who looks: a browser each (its own cookies), logged in as the username (None: a visitor), JavaScript on or off.
BROWSERS = {
    "alice": ("alice", True),
    "alice-no-js": ("alice", False),
    "bob": ("bob", True),
    "newbie": ("newbie", True),
    None: (None, True),
}
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
# Every page in each look: a width and the colour scheme the device prefers (the users' theme is
# "system", the default, so the device's preference picks the palette, as it does for visitors).
# Dark at phone width too would add a minute for the few rules a palette can break (contrast).
LOOKS = {
    "desktop": (DESKTOP, "light"),
    "phone": (PHONE, "light"),
    "dark": (DESKTOP, "dark"),
}


@dataclass
class Site:
    server: AppServer
    paths: dict[str, str]
    pages: dict[str, Page] = field(default_factory=dict)


def _populate() -> dict[str, str]:
    """Alice owns a public group with a topic, a direct conversation and a mention; Newbie has nothing."""
    from accounts.services import user_create

    def user(username: str, display_name: str):
        return user_create(
            username=username, email=f"{username}@example.com", password=PASSWORD, display_name=display_name
        )

    alice = user("alice", "Alice A.")
    bob = user("bob", "Bob B.")
    user("ghopper", "Grace Hopper")
    newbie = user("newbie", "New Person")
    secret = two_factor.new_secret()
    two_factor.two_factor_enable(user=user("secure", "Sam Secure"), secret=secret, code=pyotp.TOTP(secret).now())
    group = group_create(
        actor=alice, name="Team", description="Where we plan", member_usernames=["bob", "ghopper"], is_public=True
    )
    general = default_conversation(group)
    topic = topic_create(actor=alice, group_id=group.pk, name="release-planning")
    for body in ("hello team", "the **release** is on Friday", "see https://example.com"):
        message_send(actor=alice, conversation_id=general.pk, body=body, check_rate=False)
    code = '```python\ndef greet(name):\n    # a comment\n    return f"hello {name}" + str(42)\n```'
    message_send(actor=alice, conversation_id=general.pk, body=code, check_rate=False)
    question, _created = message_send(
        actor=bob, conversation_id=general.pk, body="@alice can you review?", check_rate=False
    )
    message_send(
        actor=alice, conversation_id=general.pk, body="> quoted\n\nyes", reply_to=question.seq, check_rate=False
    )
    reaction_toggle(actor=alice, conversation_id=general.pk, seq=question.seq, emoji="👍")
    message_send(actor=bob, conversation_id=topic.pk, body="planning starts", check_rate=False)
    direct, _created = direct_open(actor=alice, username="bob")
    message_send(actor=bob, conversation_id=direct.pk, body="hello in private", check_rate=False)
    mine, _created = message_send(actor=alice, conversation_id=direct.pk, body="hi Bob", check_rate=False)
    _invite, token = invite_create(actor=alice, group_id=group.pk, expires="7d")
    uid = urlsafe_base64_encode(force_bytes(newbie.pk))
    return {
        "group": f"/groups/{group.pk}/",
        "general": f"/chats/{general.pk}/",
        "topic": f"/chats/{topic.pk}/",
        "direct": f"/chats/{direct.pk}/",
        "edit": f"/chats/{direct.pk}/messages/{mine.seq}/edit/",
        "invite": f"/invite/{token}/",
        "reset": f"/accounts/password-reset/{uid}/{default_token_generator.make_token(newbie)}/",
        "unsubscribe": f"/accounts/unsubscribe/{unsubscribe_token(newbie)}/",
    }


@pytest.fixture
def db():
    """Tests naming `db` make pytest-django create the test database. This module's data is made
    once, committed and flushed at the end (`site`), so this `db` opens no per-test transaction:
    one would hold SQLite's write lock against the server."""


@pytest.fixture(scope="module")
def site_paths(django_db_setup, django_db_blocker) -> Iterator[dict[str, str]]:
    """The data, made before the browser starts (its event loop would stop messages being published)."""
    with django_db_blocker.unblock():
        paths = _populate()
    yield paths
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def site(site_paths, browser, tmp_path_factory) -> Iterator[Site]:
    paths = site_paths
    server = AppServer(tmp_path_factory.mktemp("a11y") / "server.log", env=server_env(DEBUG=1))
    server.start()
    site = Site(server, paths)
    contexts = {}
    try:
        for who, (username, javascript) in BROWSERS.items():
            context = browser.new_context(viewport=DESKTOP)
            context.set_default_timeout(TIMEOUT_MS)
            if not javascript:
                # The site's scripts are not loaded; JavaScript itself stays on for axe-core to run.
                context.route("**/static/js/**", lambda route: route.abort())
            contexts[who] = context
            site.pages[who] = login(context, server, username) if username else context.new_page()
        yield site
    finally:
        for context in contexts.values():
            context.close()
        server.close()


def open_shortcuts(page: Page) -> None:
    connected(page)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # out of the composer, where "?" is text
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-dialog")).to_be_visible()


def save_theme(page: Page) -> None:
    """A form that answers with a confirmation ("Theme saved.") on the next page."""
    page.locator("#theme-form button[type=submit]").click()
    expect(page.locator(".flash li")).to_have_text("Theme saved.")


def open_switcher(page: Page) -> None:
    connected(page)
    page.keyboard.press("Control+k")
    expect(page.locator("#quick-switcher-input")).to_be_focused()
    page.keyboard.type("re")
    expect(page.locator("#quick-switcher [role=option]").first).to_be_visible()


def open_confirm(page: Page) -> None:
    page.locator("a[data-confirm]", has_text="Remove").first.click()
    expect(page.locator("dialog.confirm-dialog")).to_be_visible()


def open_mention_suggestions(page: Page) -> None:
    connected(page)
    page.focus("#id_body")
    page.keyboard.type("thanks @b")
    expect(page.locator("#composer [role=listbox] [role=option]").first).to_be_visible()


def open_message_menu(page: Page) -> None:
    connected(page)
    page.locator("#messages li.message .message-actions summary").last.click()
    expect(page.locator("#messages li.message .message-actions[open]")).to_have_count(1)


def create_duplicate_topic(page: Page) -> None:
    """The new-topic page shows the form again with its error."""
    page.fill("#new-topic-name", "release-planning")
    page.click("form:has(#new-topic-name) button[type=submit]")
    expect(page.locator("main [role=alert]").first).to_be_visible()


def request_reset(page: Page) -> None:
    page.fill("input[name=email]", "newbie@example.com")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("load")


def failed_login(page: Page) -> None:
    page.fill("input[name=username]", "nobody")
    page.fill("input[name=password]", "wrong password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("load")


def login_with_two_factor(page: Page) -> None:
    page.fill("input[name=username]", "secure")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/two-factor/"))


def send_empty_message(page: Page) -> None:
    """Without JavaScript the form posts and the page comes back with the composer's error."""
    page.click("#composer button[type=submit]")
    expect(page.locator("#composer-error")).to_be_visible()


@dataclass(frozen=True)
class Screen:
    """A page as someone sees it: who (a key of BROWSERS), where, and what they did there."""

    who: str | None
    path: str  # a key of Site.paths inside {}, e.g. "{group}edit/"
    then: Callable[[Page], None] | None = None


SCREENS = {
    # A visitor
    "login": Screen(None, "/accounts/login/"),
    "login-failed": Screen(None, "/accounts/login/", failed_login),
    "signup": Screen(None, "/accounts/signup/"),
    "password-reset": Screen(None, "/accounts/password-reset/"),
    "password-reset-sent": Screen(None, "/accounts/password-reset/", request_reset),
    "password-reset-confirm": Screen(None, "{reset}"),
    "password-reset-link-invalid": Screen(None, "/accounts/password-reset/x/y/"),
    "unsubscribe": Screen(None, "{unsubscribe}"),
    "email-link-invalid": Screen(None, "/accounts/verify-email/not-a-token/"),
    "login-two-factor": Screen(None, "/accounts/login/", login_with_two_factor),
    # A new member
    "chats-empty": Screen("newbie", "/chats/"),
    "mentions-empty": Screen("newbie", "/mentions/"),
    "invite": Screen("newbie", "{invite}"),
    # A member with conversations
    "chats": Screen("alice", "/chats/"),
    "group-conversation": Screen("alice", "{general}", connected),
    "topic-conversation": Screen("alice", "{topic}", connected),
    "direct-conversation": Screen("alice", "{direct}", connected),
    "conversation-details": Screen("alice", "{general}#members", connected),
    "shortcuts-dialog": Screen("alice", "{general}", open_shortcuts),
    "quick-switcher": Screen("alice", "{general}", open_switcher),
    "mention-suggestions": Screen("alice", "{general}", open_mention_suggestions),
    "message-menu": Screen("alice", "{direct}", open_message_menu),
    "message-edit": Screen("alice", "{edit}"),
    "topic-rename": Screen("alice", "{topic}rename/"),
    "direct-start": Screen("alice", "/dm/"),
    "group-new": Screen("alice", "/groups/new/"),
    "group-detail": Screen("alice", "{group}"),
    "group-confirm-dialog": Screen("alice", "{group}", open_confirm),
    "topic-new-errors": Screen("alice", "{group}", create_duplicate_topic),
    "group-invites": Screen("alice", "{group}invites/"),
    "group-member-remove": Screen("alice", "{group}members/ghopper/remove/"),
    "group-delete": Screen("alice", "{group}delete/"),
    "groups-directory": Screen("alice", "/groups/"),
    "groups-directory-empty": Screen("alice", "/groups/?q=zzzz"),
    "people": Screen("alice", "/people/"),
    "people-search": Screen("alice", "/people/?q=gr"),
    "profile": Screen("alice", "/people/ghopper/"),
    "search": Screen("alice", "/search/?q=hello"),
    "search-empty": Screen("alice", "/search/?q=zzzz"),
    "mentions": Screen("alice", "/mentions/"),
    "settings": Screen("alice", "/accounts/settings/"),
    "settings-saved": Screen("alice", "/accounts/settings/", save_theme),
    "two-factor": Screen("alice", "/accounts/settings/two-factor/"),
    "verify-email": Screen("alice", "/accounts/verify-email/"),
    "group-leave": Screen("bob", "{group}leave/"),
    # Without JavaScript: the plain pages and forms
    "no-js-conversation": Screen("alice-no-js", "{general}"),
    "no-js-composer-error": Screen("alice-no-js", "{topic}", send_empty_message),
    "no-js-group-detail": Screen("alice-no-js", "{group}"),
}


@pytest.mark.parametrize("look", LOOKS)
@pytest.mark.parametrize("name", SCREENS)
def test_every_page_has_no_axe_violations(site, name, look):
    screen = SCREENS[name]
    page = site.pages[screen.who]
    viewport, scheme = LOOKS[look]
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)
    page.goto(site.server.url + screen.path.format(**site.paths))
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    if screen.then:
        screen.then(page)
    assert_accessible(page, f"{name}, {look} ({page.url})")


def test_the_check_reports_rule_impact_and_target(site):
    page = site.pages[None]
    page.set_content('<html><body><main><img src="x.png"><input id="field"></main></body></html>')
    violations = accessibility_violations(page)
    assert {"html-has-lang", "image-alt", "label"} <= {violation["id"] for violation in violations}
    report = describe_violations(violations)
    assert re.search(r"^image-alt \(critical\): ", report, re.M)
    assert re.search(r"^    #field ", report, re.M)
