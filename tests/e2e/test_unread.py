"""Unread in Chromium: a conversation with 80 unread opens at the first of them under a "New messages"
divider, and the read marker moves only as far as the messages that scrolled into view."""

import pytest
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.models import ReadState
from messaging.selectors import default_conversation
from messaging.services import message_send, read_mark
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def in_view(page: Page, selector: str, *, partly: bool = False) -> bool:
    """Whether the element is inside the visible part of the message list (`partly`: some of it)."""
    return page.eval_on_selector(
        selector,
        """(el, partly) => {
            const box = document.getElementById("messages-scroll").getBoundingClientRect();
            const r = el.getBoundingClientRect();
            if (partly) return r.bottom > box.top && r.top < box.bottom;
            return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
        }""",
        partly,
    )


def badge_below(page: Page, conversation_id: int, count: int) -> None:
    """Wait for the sidebar's unread badge of the conversation to drop below `count`."""
    page.wait_for_function(
        """([id, count]) => {
            const badge = document.querySelector(`li[data-conversation-id="${id}"] .badge`);
            return badge && Number(badge.dataset.count ?? badge.textContent) < count;
        }""",
        arg=[conversation_id, count],
    )


def marker(user, conversation) -> int:
    return ReadState.objects.get(user=user, conversation=conversation).last_read_seq


def test_opens_at_the_first_unread_and_reads_only_what_scrolls_into_view(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    bob = make_user("bob")
    group = group_create(actor=alice, name="Hikers", member_usernames=["bob"])
    conversation = default_conversation(group)
    for n in range(1, 91):
        message_send(actor=alice, conversation_id=conversation.pk, body=f"trail note {n}")
        if n == 10:
            read_mark(actor=bob, conversation_id=conversation.pk, seq=10)

    page = login(new_context(), server, "bob", next_path=f"/chats/{conversation.pk}/")
    divider = page.locator("#messages #unread-divider")
    expect(divider).to_have_text("New messages")
    after_divider = page.locator("#unread-divider ~ li.message").first
    expect(after_divider).to_have_attribute("data-seq", "11")
    expect(after_divider.locator(".message-body")).to_have_text("trail note 11")
    page.wait_for_selector("html[data-socket=connected]")
    assert in_view(page, "#unread-divider") and in_view(page, "#m11")
    assert not in_view(page, "#m57")  # the window's end is below, unseen

    # What is on screen is reported read; the rest of the window is not.
    badge_below(page, conversation.pk, 80)
    seen = marker(bob, conversation)
    assert 11 <= seen < 57
    assert in_view(page, f"#m{seen}", partly=True)  # read up to a message on screen

    # Scrolling down reads further (and loads the newer messages).
    page.locator("#m57").scroll_into_view_if_needed()
    badge_below(page, conversation.pk, 90 - 56)
    assert marker(bob, conversation) >= 57
