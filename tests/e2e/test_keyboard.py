"""Keyboard first, in Chromium: focus on opening, editing from the composer, Escape, the message
list as one tab stop, the quick switcher, moving between conversations and the shortcuts dialog."""

import re

import pytest
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.models import Message
from messaging.selectors import default_conversation
from messaging.services import direct_open, message_send, topic_create
from tests.e2e.conftest import TIMEOUT_MS, assert_accessible, connected, login, message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def focused(page: Page) -> str:
    """What has focus: "#id", "li#m<seq>", or the tag and class."""
    return page.evaluate(
        """() => { const n = document.activeElement;
            if (!n) return ""; if (n.id) return `${n.tagName.toLowerCase()}#${n.id}`;
            return `${n.tagName.toLowerCase()}.${n.className}`; }"""
    )


@pytest.fixture
def chat(make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob", display_name="Bob B.")
    conversation = default_conversation(group_create(actor=alice, name="Keys", member_usernames=["bob"]))
    message_send(actor=alice, conversation_id=conversation.pk, body="first from alice")
    bob = type(alice).objects.get(username="bob")
    message_send(actor=bob, conversation_id=conversation.pk, body="bob says hi")
    message_send(actor=alice, conversation_id=conversation.pk, body="last from alice")
    return conversation


def test_opening_focuses_the_composer_and_up_edits_the_last_message_escape_returns(server, new_context, chat):
    page = login(new_context(), server, "alice", next_path=f"/chats/{chat.pk}/")
    connected(page)
    expect(page.locator("#id_body")).to_be_focused()

    # Up in the empty composer: edit the last own message; Escape cancels and returns to the composer.
    page.keyboard.press("ArrowUp")
    editor = message(page, 3).locator("textarea.edit-body")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("last from alice")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(page.locator("#id_body")).to_be_focused()

    # Typed text: Up moves in the text as usual, no edit.
    page.keyboard.type("draft")
    page.keyboard.press("ArrowUp")
    expect(page.locator("textarea.edit-body")).to_have_count(0)
    page.fill("#id_body", "")

    # Saved: focus stays on the message, which shows the new text once the server confirms.
    page.keyboard.press("ArrowUp")
    editor.fill("last from alice, edited")
    editor.press("Enter")
    expect(message(page, 3)).to_be_focused()
    expect(message(page, 3).locator(".edited")).to_have_count(1)
    assert Message.objects.get(conversation=chat, seq=3).body == "last from alice, edited"
    expect(message(page, 3)).to_be_focused()


def test_the_message_list_is_one_tab_stop_with_arrow_keys_inside(server, new_context, chat):
    page = login(new_context(), server, "alice", next_path=f"/chats/{chat.pk}/")
    connected(page)
    tab_stops = "els => els.filter(e => e.tabIndex >= 0).map(e => e.id || e.tagName)"
    # One message holds the tab stop (the newest), with its own controls; the others' are out of the order.
    assert page.eval_on_selector_all("#messages li.message", tab_stops) == ["m3"]
    others = page.eval_on_selector_all("#messages li.message:not(#m3) :is(a[href], button, summary)", tab_stops)
    assert others == []

    message(page, 3).focus()
    page.keyboard.press("ArrowUp")
    expect(message(page, 2)).to_be_focused()
    page.keyboard.press("Home")
    expect(message(page, 1)).to_be_focused()
    page.keyboard.press("End")
    expect(message(page, 3)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.eval_on_selector_all("#messages li.message", tab_stops) == ["m1"]

    # E edits the message in focus; Escape cancels and returns to it.
    page.keyboard.press("e")
    expect(message(page, 1).locator("textarea.edit-body")).to_be_focused()
    page.keyboard.press("Escape")
    expect(message(page, 1)).to_be_focused()

    # Its menu from the keyboard: Tab reaches it, Enter opens it, Escape closes it and returns to its button.
    menu_button = message(page, 1).locator(".message-actions summary")
    for _ in range(12):
        page.keyboard.press("Tab")
        if menu_button.evaluate("node => node === document.activeElement"):
            break
    expect(menu_button).to_be_focused()
    page.keyboard.press("Enter")
    expect(message(page, 1).locator("details.message-actions")).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(message(page, 1).locator("details.message-actions")).not_to_have_attribute("open", "")
    expect(menu_button).to_be_focused()

    # Delete from the menu: focus stays on the message, now shown as deleted.
    page.on("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # Edit
    page.keyboard.press("Tab")  # Delete
    expect(message(page, 1).locator("form.message-delete button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(message(page, 1)).to_have_class(re.compile(r"\bdeleted\b"))
    expect(message(page, 1)).to_be_focused()

    # A message added live (here the reader's own, over the socket) joins the list out of the tab order.
    page.focus("#id_body")
    page.keyboard.type("one more")
    page.keyboard.press("Enter")
    expect(message(page, 4)).to_have_count(1)
    expect(message(page, 4).locator(".message-actions summary")).to_have_attribute("tabindex", "-1")
    assert page.eval_on_selector_all("#messages li.message", tab_stops) == ["m1"]


def test_skip_to_composer_and_the_shortcuts_dialog(server, new_context, chat):
    page = login(new_context(), server, "alice", next_path=f"/chats/{chat.pk}/")
    connected(page)
    page.locator("h1").click()  # focus out of the composer
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Ctrl+K")
    expect(dialog).to_contain_text("Alt+Shift+↑")
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # "?" typed in the composer is just text.
    page.focus("#id_body")
    page.keyboard.type("why?")
    expect(dialog).to_be_hidden()
    expect(page.locator("#id_body")).to_have_value("why?")

    # The skip link comes right after "Skip to content", at the top, and lands in the composer.
    page.fill("#id_body", "")
    page.locator("a.skip-link", has_text="Skip to content").focus()
    page.keyboard.press("Tab")
    expect(page.locator("a.skip-link", has_text="Skip to composer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#id_body")).to_be_focused()
    assert_accessible(page)


def test_quick_switcher_opens_conversations_and_people(server, new_context, chat, make_user):
    alice = type(chat.group.memberships.first().user).objects.get(username="alice")
    topic_create(actor=alice, group_id=chat.group_id, name="release-planning")
    make_user("ghopper", display_name="Grace Hopper")
    page = login(new_context(), server, "alice", next_path=f"/chats/{chat.pk}/")
    connected(page)

    page.keyboard.press("Control+k")
    field = page.locator("#quick-switcher-input")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("role", "combobox")
    page.keyboard.type("releas")
    options = page.locator("#quick-switcher [role=option]")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("release-planning")
    assert_accessible(page)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("release-planning")
    connected(page)

    # People by name: Enter opens the direct conversation.
    page.keyboard.press("Control+k")
    page.keyboard.type("grace")
    expect(options.filter(has_text="Grace Hopper")).to_have_count(1)
    page.keyboard.press("ArrowDown")  # the first match is chosen already; the list wraps
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Grace Hopper")

    # Escape closes it and gives focus back.
    connected(page)
    page.focus("#id_body")
    page.keyboard.press("Control+k")
    expect(page.locator("#quick-switcher")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#quick-switcher")).to_be_hidden()
    expect(page.locator("#id_body")).to_be_focused()


def test_alt_arrows_move_between_conversations_and_with_shift_between_unread_ones(server, new_context, chat, make_user):
    alice = type(chat.group.memberships.first().user).objects.get(username="alice")
    bob = type(alice).objects.get(username="bob")
    carol = make_user("carol", display_name="Carol C.")
    quiet, _ = direct_open(actor=alice, username="carol")
    message_send(actor=carol, conversation_id=quiet.pk, body="read already")
    busy, _ = direct_open(actor=alice, username="bob")
    message_send(actor=bob, conversation_id=busy.pk, body="unread for alice")
    page = login(new_context(), server, "alice", next_path=f"/chats/{quiet.pk}/")
    connected(page)
    order = page.eval_on_selector_all(
        "#conversation-list li.conversation-row", "els => els.map(e => Number(e.dataset.conversationId))"
    )
    assert set(order) == {chat.pk, quiet.pk, busy.pk}
    here = order.index(quiet.pk)

    if here + 1 < len(order):
        page.keyboard.press("Alt+ArrowDown")
        page.wait_for_url(f"{server.url}/chats/{order[here + 1]}/")
        connected(page)
        page.keyboard.press("Alt+ArrowUp")
        page.wait_for_url(f"{server.url}/chats/{quiet.pk}/")
        connected(page)

    # The unread one, wherever it is: Shift skips the read ones.
    step = "ArrowDown" if order.index(busy.pk) > here else "ArrowUp"
    page.keyboard.press(f"Alt+Shift+{step}")
    page.wait_for_url(f"{server.url}/chats/{busy.pk}/")
    expect(page.locator("h1")).to_have_text("Bob B.")
