"""History that flows, in Chromium: older messages load as the reader scrolls up (the link
still works from the keyboard), and "jump to latest" counts what arrived while scrolled up."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.models import Message
from messaging.selectors import default_conversation
from messaging.services import message_send, read_mark
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def chat_with_history(make_user, count: int):
    alice = make_user("alice", display_name="Alice A.")
    bob = make_user("bob", display_name="Bob B.")
    conversation = default_conversation(group_create(actor=alice, name="Long", member_usernames=["bob"]))
    for n in range(1, count + 1):
        message_send(actor=alice, conversation_id=conversation.pk, body=f"message {n}", check_rate=False)
    read_mark(actor=bob, conversation_id=conversation.pk, seq=count)  # read: both open at the newest
    return conversation


def messages(page: Page):
    return page.locator("#messages li.message[data-seq]")


def scroll_to_top(page: Page) -> None:
    # column-reverse: the top is the most negative scrollTop.
    page.eval_on_selector("#messages-scroll", "node => { node.scrollTop = -node.scrollHeight; }")


def test_scrolling_to_the_top_loads_older_messages_until_the_beginning(server, new_context, make_user):
    conversation = chat_with_history(make_user, 120)
    page = login(new_context(), server, "alice", next_path=f"/chats/{conversation.pk}/")
    page.wait_for_selector("html[data-socket=connected]")
    expect(messages(page)).to_have_count(50)
    page.evaluate("window.__sameDocument = true")

    scroll_to_top(page)
    expect(messages(page)).to_have_count(100)
    expect(messages(page).first).to_have_attribute("data-seq", "21")
    scroll_to_top(page)
    expect(messages(page)).to_have_count(120)
    expect(page.locator(".history-start")).to_be_visible()
    expect(page.locator("#older-link")).to_have_count(0)
    seqs = page.eval_on_selector_all("#messages li.message[data-seq]", "els => els.map(e => Number(e.dataset.seq))")
    assert seqs == list(range(1, 121))
    assert page.evaluate("window.__sameDocument === true")


def test_the_load_older_link_still_works_from_the_keyboard(server, new_context, make_user):
    conversation = chat_with_history(make_user, 60)
    page = login(new_context(), server, "alice", next_path=f"/chats/{conversation.pk}/")
    page.wait_for_selector("html[data-socket=connected]")
    expect(messages(page)).to_have_count(50)
    page.focus("#older-link")  # in view: it may load by itself before Enter
    page.keyboard.press("Enter")
    expect(messages(page)).to_have_count(60)
    expect(page.locator(".history-start")).to_be_visible()
    expect(messages(page).first).to_be_focused()  # the link is gone: focus is on the oldest message
    assert page.url.endswith(f"/chats/{conversation.pk}/")  # loaded in place, not the no-JS page


def test_jump_to_latest_counts_messages_that_arrive_while_scrolled_up(server, new_context, make_user):
    conversation = chat_with_history(make_user, 80)
    alice = login(new_context(), server, "alice", next_path=f"/chats/{conversation.pk}/")
    bob = login(new_context(), server, "bob", next_path=f"/chats/{conversation.pk}/")
    for page in (alice, bob):
        page.wait_for_selector("html[data-socket=connected]")
    jump = alice.locator("#jump-latest")
    expect(jump).to_be_hidden()
    # Scrolled up a little (not to the top: that would load older messages).
    alice.eval_on_selector("#messages-scroll", "node => { node.scrollTop = -600; }")

    for n in (1, 2, 3):
        bob.fill("#composer textarea", f"news {n}")
        bob.press("#composer textarea", "Enter")
        expect(alice.locator("#messages li.message .message-body", has_text=f"news {n}")).to_have_count(1)
    expect(jump).to_be_visible()
    expect(jump).to_have_text("3 new messages · Jump to latest ↓")
    assert alice.eval_on_selector("#messages-scroll", "node => node.scrollTop") <= -600  # not dragged down

    jump.click()
    expect(jump).to_be_hidden()
    expect(alice.locator("#messages li.message .message-body", has_text="news 3")).to_be_in_viewport()
    expect(alice.locator("#id_body")).to_be_focused()

    # At the bottom, new messages scroll into view without the button.
    bob.fill("#composer textarea", "news 4")
    bob.press("#composer textarea", "Enter")
    expect(alice.locator("#messages li.message .message-body", has_text="news 4")).to_be_in_viewport()
    expect(jump).to_be_hidden()


def list_items(page: Page) -> list[str]:
    """The list as the reader sees it: "day:<label>" for a divider, "<body>" or "<body>+" (continued)."""
    return page.eval_on_selector_all(
        "#messages > li.day-divider, #messages > li.message[data-seq]",
        """els => els.map(e => e.classList.contains("day-divider") ? `day:${e.textContent}`
            : e.querySelector(".message-body").textContent.trim() + (e.classList.contains("continued") ? "+" : ""))""",
    )


def test_days_and_runs_are_drawn_the_same_for_the_page_loaded_and_live_messages(server, browser, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob", display_name="Bob B.")
    conversation = default_conversation(group_create(actor=alice, name="Days", member_usernames=["bob"]))
    late_sunday_utc = datetime(2020, 3, 1, 23, 30, tzinfo=UTC)  # already Monday in Tokyo
    for n in range(1, 54):
        message, _ = message_send(actor=alice, conversation_id=conversation.pk, body=f"m{n}", check_rate=False)
        at = late_sunday_utc + timedelta(minutes=n - 1) if n <= 3 else timezone.now() - timedelta(days=1)
        Message.objects.filter(pk=message.pk).update(created_at=at)
    # Neither chose a time zone: the browser's (Tokyo) decides, not the server's (UTC).
    context = browser.new_context(timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    other = browser.new_context(viewport={"width": 1280, "height": 800})
    other.set_default_timeout(TIMEOUT_MS)
    try:
        page = login(context, server, "alice", next_path=f"/chats/{conversation.pk}/")
        bob = login(other, server, "bob", next_path=f"/chats/{conversation.pk}/")
        for each in (page, bob):
            each.wait_for_selector("html[data-socket=connected]")
        shown = list_items(page)
        assert shown[0] == "day:Yesterday" and shown[1:3] == ["m4", "m5+"]

        scroll_to_top(page)
        expect(page.locator(".history-start")).to_be_visible()
        assert list_items(page)[:6] == ["day:Monday, March 2, 2020", "m1", "m2+", "m3+", "day:Yesterday", "m4"]
        assert page.locator("#messages li.day-divider", has_text="Yesterday").count() == 1

        # Live: today's first message gets its divider; Bob's second, a moment later, joins his first.
        # Bob's page opened at his first unread message, in older history: his sends go over the socket
        # and the list catches up in place, so nothing reloads under what he types next.
        assert bob.evaluate("document.querySelector('[data-live]').dataset.live") == "false"
        bob.evaluate("window.stillThisPage = true")
        bob.fill("#composer textarea", "hello today")
        bob.press("#composer textarea", "Enter")
        bob.fill("#composer textarea", "and again")
        bob.press("#composer textarea", "Enter")
        expect(page.locator("#messages li.message .message-body", has_text="and again")).to_have_count(1)
        assert list_items(page)[-3:] == ["day:Today", "hello today", "and again+"]
        assert list_items(bob)[-3:] == ["day:Today", "hello today", "and again+"]  # the sender's own, after the ack
        assert bob.evaluate("window.stillThisPage === true")
        author = page.locator("#messages li.message.continued .message-author").last
        expect(author).to_have_text("Bob B.")  # still there for screen readers
        expect(page.locator("#messages li.message.continued .chat-avatar").last).to_be_hidden()
    finally:
        context.close()
        other.close()
