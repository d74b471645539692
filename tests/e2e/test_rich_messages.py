"""Rich messages in Chromium against the production server: formatted bodies inserted from the
server's HTML, a highlighted code block, and a reaction appearing live on the other person's tab."""

import pytest
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.selectors import default_conversation
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def connected(page: Page) -> None:
    page.wait_for_selector("html[data-socket=connected]")


def send(page: Page, text: str) -> None:
    page.fill("#composer textarea", text)
    page.press("#composer textarea", "Enter")


def message(page: Page, seq: int):
    return page.locator(f"#messages li.message[data-seq='{seq}']")


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
    send(alice, "```python\ndef hello():\n    return 1\n```")
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

    send(alice, "no mention here")
    row = bob.locator(f"#conversation-list li[data-conversation-id='{conversation_id}']")
    expect(row.locator(".badge")).to_have_text("1")
    expect(row.locator(".mention-badge")).to_be_hidden()

    send(alice, "@bob the **trail** is open")
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
