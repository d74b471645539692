"""Rich messages in Chromium against the production server: formatted bodies inserted from the
server's HTML, a highlighted code block, and a reaction appearing live on the other person's tab."""

import re

import pytest
from playwright.sync_api import expect

from groups.services import group_create
from messaging.selectors import default_conversation
from tests.e2e.conftest import TIMEOUT_MS, compose, connected, login, message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def test_formatting_code_and_a_live_reaction(server, new_context, make_user):
    alice_user, _ = make_user("alice"), make_user("bob")
    group = group_create(actor=alice_user, name="Hikers", member_usernames=["bob"])
    conversation_id = default_conversation(group).pk
    alice = login(new_context(), server, "alice", f"/chats/{conversation_id}/")
    bob = login(new_context(), server, "bob", f"/chats/{conversation_id}/")
    connected(alice)
    connected(bob)

    # Shift+Enter for a new line; Markdown becomes the server's HTML on both tabs.
    alice.fill("#composer textarea", "**bold** and <b>not html</b>")
    alice.press("#composer textarea", "Shift+Enter")
    alice.type("#composer textarea", "see https://example.com")
    alice.press("#composer textarea", "Enter")
    for page in (alice, bob):
        body = message(page, 1).locator(".message-body")
        expect(body.locator("strong")).to_have_text("bold")
        expect(body).to_contain_text("<b>not html</b>")
        expect(body.locator("b")).to_have_count(0)
        link = body.locator("a")
        expect(link).to_have_attribute("href", "https://example.com")
        expect(link).to_have_attribute("rel", "noopener nofollow ugc")
        expect(link).to_have_attribute("target", "_blank")

    # A fenced block with a language is highlighted by the server (Pygments classes, styled).
    compose(alice, "```python\ndef hello():\n    return 1\n```")
    code = message(bob, 2).locator("pre.highlight")
    expect(code.locator("span.k").first).to_have_text("def")
    expect(code.locator("span.nf")).to_have_text("hello")
    color = code.locator("span.k").first.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(0, 128, 0)"  # static/css/highlight.css

    # Bob reacts through the picker; Alice's tab shows it without a reload, then Bob takes it back.
    message(bob, 1).locator("details.reaction-picker summary").click()
    message(bob, 1).locator("button.reaction-choice[value='🎉']").click()
    mine = message(bob, 1).locator("button.reaction")
    expect(mine).to_have_text("🎉 1")
    expect(mine).to_have_attribute("aria-pressed", "true")
    theirs = message(alice, 1).locator("button.reaction")
    expect(theirs).to_have_text("🎉 1")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    theirs.click()  # Alice adds hers to the same emoji
    expect(message(bob, 1).locator("button.reaction")).to_have_text("🎉 2")
    mine.click()
    expect(message(alice, 1).locator("button.reaction")).to_have_text("🎉 1")
    expect(message(alice, 1).locator("button.reaction")).to_have_attribute("aria-pressed", "true")


STUB_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = class {
  static permission = "granted";
  static requestPermission() { return Promise.resolve("granted"); }
  constructor(title, options) { window.__notifications.push({ title, body: options.body, tag: options.tag }); }
  close() {}
};
document.hasFocus = () => false;  // the tab is in the background
"""


def test_a_mention_shows_the_marker_and_a_desktop_notification(server, new_context, make_user):
    alice_user, _ = make_user("alice", display_name="Alice"), make_user("bob")
    group = group_create(actor=alice_user, name="Hikers", member_usernames=["bob"])
    conversation_id = default_conversation(group).pk
    bob_context = new_context()
    bob_context.add_init_script(STUB_NOTIFICATIONS)
    bob = login(bob_context, server, "bob")  # the conversation list, in the background
    alice = login(new_context(), server, "alice", f"/chats/{conversation_id}/")
    connected(bob)
    connected(alice)

    compose(alice, "no mention here")
    row = bob.locator(f"#conversation-list li[data-conversation-id='{conversation_id}']")
    expect(row.locator(".badge")).to_have_text("1")
    expect(row.locator(".mention-badge")).to_be_hidden()

    compose(alice, "@bob the **trail** is open")
    expect(row.locator(".badge")).to_have_text("2")
    expect(row.locator(".mention-badge")).to_have_text("@1")
    bob.wait_for_function("window.__notifications.length === 1")
    (note,) = bob.evaluate("window.__notifications")
    assert note == {
        "title": "Alice in Hikers / general",
        "body": "@bob the trail is open",
        "tag": f"chatsite-{conversation_id}-2",
    }

    # In the conversation, the mention of bob is highlighted as his.
    bob.goto(f"{server.url}/chats/{conversation_id}/")
    expect(message(bob, 2).locator(".message-body span.mention.me")).to_have_text("@bob")
    expect(message(alice, 2).locator(".message-body span.mention")).not_to_have_class("mention me")


def test_mention_suggestions_from_the_conversations_members_from_the_keyboard(server, new_context, make_user):
    alice_user = make_user("alice", display_name="Alice")
    make_user("bob", display_name="Bob Builder")
    make_user("bea", display_name="Bea Arthur")
    make_user("barb", display_name="Barb Outsider")  # not in the group: never suggested
    group = group_create(actor=alice_user, name="Hikers", member_usernames=["bob", "bea"])
    conversation_id = default_conversation(group).pk
    alice = login(new_context(), server, "alice", f"/chats/{conversation_id}/")
    connected(alice)
    box = alice.locator("#composer textarea")
    listbox = alice.locator("#composer [role=listbox]")

    box.click()
    alice.keyboard.type("Morning @b")
    options = listbox.locator("[role=option]")
    expect(options).to_have_count(2)
    expect(listbox).to_contain_text("@bob")
    expect(listbox).to_contain_text("@bea")
    expect(listbox).not_to_contain_text("@barb")
    # A textarea keeps its textbox role (ARIA in HTML allows no other): no combobox role, no aria-expanded.
    expect(box).not_to_have_attribute("role", re.compile("."))
    expect(box).to_have_attribute("aria-controls", listbox.get_attribute("id"))
    expect(box).to_have_attribute("aria-autocomplete", "list")
    expect(listbox).to_be_visible()

    # Down to "@bob", Enter picks it (and sends nothing); the text goes on after it.
    alice.keyboard.press("ArrowDown")
    while (
        options.nth(int(box.get_attribute("aria-activedescendant").rsplit("-", 1)[1])).get_attribute("data-username")
        != "bob"
    ):
        alice.keyboard.press("ArrowDown")
    expect(alice.locator(f"#{box.get_attribute('aria-activedescendant')}")).to_have_attribute("aria-selected", "true")
    alice.keyboard.press("Enter")
    expect(box).to_have_value("Morning @bob ")
    expect(listbox).to_be_hidden()
    expect(alice.locator("#messages li.message")).to_have_count(0)

    # `@all` in a group's conversation, first for "@a"; Escape closes without picking.
    alice.keyboard.type("and @a")
    expect(options.first).to_have_attribute("data-username", "all")
    alice.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Morning @bob and @a")
    alice.keyboard.type("ll see you")
    alice.keyboard.press("Enter")  # nothing highlighted: Enter sends
    body = message(alice, 1).locator(".message-body")
    expect(body.locator("span.mention")).to_have_count(2)
    expect(body.locator("span.mention").first).to_have_text("@bob")
    expect(box).to_have_value("")


def test_muting_on_one_tab_reaches_the_other_tab_live(server, new_context, make_user):
    alice_user, _ = make_user("alice"), make_user("bob")
    group = group_create(actor=alice_user, name="Hikers", member_usernames=["bob"])
    general = default_conversation(group).pk
    context = new_context()
    first = login(context, server, "bob", f"/chats/{general}/")
    second = context.new_page()
    second.goto(f"{server.url}/chats/")  # the conversation list, in another tab of the same browser
    connected(first)
    connected(second)
    row = second.locator(f"#conversation-list li[data-conversation-id='{general}']")
    expect(row).not_to_have_class(re.compile(r"\bmuted\b"))

    button = first.locator("#mute-form button")
    expect(button).to_have_attribute("aria-pressed", "false")
    first.evaluate("window.__sameDocument = true")
    button.click()
    expect(button).to_have_text("Unmute")
    expect(button).to_have_attribute("aria-pressed", "true")
    assert first.evaluate("window.__sameDocument === true")  # toggled in place, no reload
    expect(row).to_have_class(re.compile(r"\bmuted\b"))  # the other tab, without a reload

    button.click()
    expect(button).to_have_text("Mute")
    expect(row).not_to_have_class(re.compile(r"\bmuted\b"))


STUB_PERMISSION_PROMPT = """
window.__asked = 0;
window.Notification = class {
  static permission = "default";
  static requestPermission() {
    window.__asked += 1;
    Notification.permission = "granted";
    return Promise.resolve("granted");
  }
  constructor() {}
  close() {}
};
"""


def test_notifications_ask_permission_only_on_turn_on_and_keep_the_choice_in_this_browser(
    server, new_context, make_user
):
    make_user("bob")
    context = new_context()
    context.add_init_script(STUB_PERMISSION_PROMPT)
    page = login(context, server, "bob", "/accounts/settings/")
    section = page.locator("#notification-settings")
    expect(section).to_be_visible()
    expect(page.locator("#notify-level")).to_have_value("mentions")  # the default
    assert page.evaluate("window.__asked") == 0  # opening the page asks nothing

    page.select_option("#notify-level", "all")
    assert page.evaluate("window.__asked") == 0
    page.click("#notify-enable")
    expect(page.locator("#notify-status")).to_have_text("On in this browser.")
    assert page.evaluate("window.__asked") == 1
    assert page.evaluate("localStorage.getItem('chatsite.notifications')") == "all"
    page.reload()
    expect(page.locator("#notify-level")).to_have_value("all")
