"""Search in Chromium against the production server: type a query in the header, open a result,
land on the message highlighted in its conversation, scroll down to the latest and chat live."""

import re

import pytest
from playwright.sync_api import Page, expect

from groups.services import default_conversation, group_create
from messaging.services import message_send
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def in_viewport(page: Page, selector: str) -> bool:
    return page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }",
    )


def test_find_a_message_open_it_in_context_and_keep_chatting(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    group = group_create(actor=alice, name="Hikers", member_usernames=["bob"])
    conversation = default_conversation(group)
    for n in range(1, 10):
        message_send(actor=alice, conversation_id=conversation.pk, body=f"filler {n}")
    message_send(actor=alice, conversation_id=conversation.pk, body="The trailhead code is <b>4521</b>")
    for n in range(11, 91):
        message_send(actor=alice, conversation_id=conversation.pk, body=f"filler {n}")

    bob = login(new_context(), server, "bob")
    bob.fill("header input[name=q]", "trailheads")
    bob.press("header input[name=q]", "Enter")
    result = bob.locator("#search-results li.search-result")
    expect(result).to_have_count(1)
    expect(result.locator(".search-result-body")).to_have_text("The trailhead code is <b>4521</b>")
    expect(result.locator(".search-result-body mark")).to_have_text("trailhead")
    expect(result.locator(".search-result-title")).to_have_text("Hikers / general")

    result.locator("a.search-result-link").click()
    bob.wait_for_url(f"{server.url}/chats/{conversation.pk}/?around=10#m10")
    target = bob.locator("#messages li.message[data-seq='10']")
    expect(target).to_have_class(re.compile(r"\bhighlighted\b"))
    expect(target.locator(".message-body")).to_have_text("The trailhead code is <b>4521</b>")
    assert in_viewport(bob, "#messages li.message[data-seq='10']")
    expect(bob.locator("main")).to_have_attribute("data-live", "false")
    bob.wait_for_selector("html[data-socket=connected]")

    # Scrolling down loads the newer messages until the latest; then the page is live again.
    items = bob.locator("#messages li.message")
    bob.locator("#messages-scroll").hover()
    for _ in range(5):
        if bob.locator("main").get_attribute("data-live") == "true":
            break
        shown = items.count()
        bob.mouse.wheel(0, 50_000)
        expect(items).not_to_have_count(shown)
    expect(bob.locator("main")).to_have_attribute("data-live", "true")
    expect(bob.locator("#messages li.message[data-seq='90'] .message-body")).to_have_text("filler 90")
    expect(bob.locator("#newer-link")).to_have_count(0)

    alice_page = login(new_context(), server, "alice", next_path=f"/chats/{conversation.pk}/")
    alice_page.wait_for_selector("html[data-socket=connected]")
    alice_page.fill("#composer textarea", "see you at the trailhead")
    alice_page.press("#composer textarea", "Enter")
    expect(bob.locator("#messages li.message[data-seq='91'] .message-body")).to_have_text("see you at the trailhead")
