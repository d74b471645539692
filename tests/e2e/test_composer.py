"""The composer in Chromium: it grows with what is typed up to a limit, and shrinks back once sent."""

import pytest
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.selectors import default_conversation
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)

BOX = "node => ({height: node.getBoundingClientRect().height, client: node.clientHeight, scroll: node.scrollHeight})"


def box(page: Page) -> dict:
    return page.eval_on_selector("#id_body", BOX)


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}])
def test_the_composer_grows_to_show_a_nine_line_message_and_no_further_than_its_limit(
    server, browser, make_user, viewport
):
    alice = make_user("alice")
    conversation = default_conversation(group_create(actor=alice, name="Typing"))
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = login(context, server, "alice", next_path=f"/chats/{conversation.pk}/")
        page.wait_for_selector("html[data-socket=connected]")
        empty = box(page)

        page.focus("#id_body")
        for n in range(1, 10):
            page.keyboard.type(f"line {n}")
            if n < 9:
                page.keyboard.press("Shift+Enter")
        nine = box(page)
        assert nine["height"] > empty["height"] * 3
        assert nine["scroll"] <= nine["client"]  # every line in view: nothing to scroll
        assert page.eval_on_selector("#id_body", "node => node.value.split('\\n').length") == 9

        for n in range(10, 60):
            page.keyboard.press("Shift+Enter")
            page.keyboard.type(f"line {n}")
        tall = box(page)
        limit = page.eval_on_selector("#id_body", "node => parseFloat(getComputedStyle(node).maxHeight)")
        assert tall["height"] == pytest.approx(limit, abs=1)
        assert tall["height"] < viewport["height"] / 2  # the conversation stays in view
        assert tall["scroll"] > tall["client"]  # the rest scrolls inside the box

        page.keyboard.press("Enter")  # sent
        expect(page.locator("#messages li.message .message-body", has_text="line 59")).to_have_count(1)
        assert box(page)["height"] == pytest.approx(empty["height"], abs=1)
    finally:
        context.close()
