"""Pages stay true while things change: a new display name shows everywhere at once, and a page cut
off from the server says so and stops claiming what it cannot know."""

import pytest
from playwright.sync_api import expect

from groups.services import group_create
from messaging.selectors import default_conversation
from messaging.services import direct_open, message_send, read_mark
from tests.e2e.conftest import TIMEOUT_MS, connected, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def test_a_new_display_name_shows_at_once_in_messages_members_sidebar_and_seen_by(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    bob = make_user("bob")
    general = default_conversation(group_create(actor=alice, name="Hikers", member_usernames=["bob"]))
    direct, _ = direct_open(actor=alice, username="bob")
    message_send(actor=alice, conversation_id=direct.pk, body="psst")
    message_send(actor=alice, conversation_id=general.pk, body="from alice")
    last, _ = message_send(actor=bob, conversation_id=general.pk, body="from bob")
    read_mark(actor=alice, conversation_id=general.pk, seq=last.seq)

    page = login(new_context(), server, "bob", f"/chats/{general.pk}/")
    connected(page)
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#seen-by")).to_have_text("Seen by Alice A.")

    settings = login(new_context(), server, "alice", "/accounts/settings/")
    settings.fill("input[name=display_name]", "Alice Liddell")
    settings.click("form:has(input[value=profile]) button[type=submit]")
    settings.wait_for_url(f"{server.url}/accounts/settings/")

    expect(page.locator("#messages li.message[data-seq='1'] .message-author")).to_have_text("Alice Liddell")
    expect(page.locator(f"#members li[data-user-id='{alice.pk}'] a.person-name")).to_have_text("Alice Liddell")
    direct_row = page.locator(f"#conversation-list li[data-conversation-id='{direct.pk}']")
    expect(direct_row.locator(".conversation-name")).to_have_text("Alice Liddell")
    expect(direct_row.locator("a")).to_have_attribute("title", "Alice Liddell")
    expect(page.locator("#seen-by")).to_have_text("Seen by Alice Liddell")
    assert page.evaluate("window.__sameDocument === true")
    # The direct conversation's own page titles it with her new name.
    direct_row.locator("a").click()
    page.wait_for_url(f"{server.url}/chats/{direct.pk}/")
    connected(page)
    settings.fill("input[name=display_name]", "Lady Alice")
    settings.click("form:has(input[value=profile]) button[type=submit]")
    expect(page.locator("#conversation-title")).to_have_text("Lady Alice")
    expect(page.locator(f"header.conversation-head [data-user-avatar='{alice.pk}']")).to_have_text("L")
    # Her own name in the header of her pages.
    settings.wait_for_url(f"{server.url}/accounts/settings/")
    expect(settings.locator(f"header [data-user-name='{alice.pk}']")).to_have_text("Lady Alice")


def test_while_disconnected_presence_greys_out_and_seen_by_leaves_unsent_messages(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    general = default_conversation(group_create(actor=alice, name="Hikers", member_usernames=["bob"]))
    message_send(actor=alice, conversation_id=general.pk, body="anyone there?")

    alice_page = login(new_context(), server, "alice", f"/chats/{general.pk}/")
    page = login(new_context(), server, "bob", f"/chats/{general.pk}/")
    connected(alice_page)
    connected(page)
    dot = page.locator(f"#members li[data-user-id='{alice.pk}'] .presence")
    expect(dot).to_have_class("presence online")
    online_colour = dot.evaluate("node => getComputedStyle(node).backgroundColor")
    page.fill("#composer textarea", "here!")
    page.press("#composer textarea", "Enter")
    expect(page.locator("#seen-by")).to_have_text("Seen by Alice A.")  # her visible tab read it

    server.stop()
    expect(page.locator("#connection-banner")).to_contain_text("who is online is unknown")
    expect(dot).to_have_attribute("title", "unknown while disconnected")
    assert dot.evaluate("node => getComputedStyle(node).backgroundColor") != online_colour
    # A message typed now waits; "Seen by" would claim it was read: it is not shown under it.
    page.fill("#composer textarea", "still here?")
    page.press("#composer textarea", "Enter")
    expect(page.locator("#messages li.message.pending")).to_have_count(1)
    expect(page.locator("#seen-by")).to_be_hidden()

    server.start()
    expect(page.locator("#connection-banner")).to_be_hidden(timeout=45_000)
    expect(page.locator("#messages li.message.pending")).to_have_count(0)
    expect(dot).to_have_class("presence online", timeout=45_000)  # Alice's tab is back too
    expect(dot).to_have_attribute("title", "online")
    expect(page.locator("#seen-by")).to_have_text("Seen by Alice A.", timeout=45_000)
