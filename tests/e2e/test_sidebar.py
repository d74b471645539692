"""The sidebar in a browser: sections that collapse and stay collapsed in this browser, and rows that
arrive live looking like the server-rendered ones (preview, time, their group's section)."""

import pytest
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.selectors import default_conversation
from messaging.services import direct_open, message_send
from tests.e2e.conftest import TIMEOUT_MS, connected, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def section(page: Page, key: str):
    return page.locator(f"#conversation-list details.sidebar-section[data-section='{key}']")


def remembered(page: Page, key: str, *, collapsed: bool) -> None:
    """Wait until the browser's cookie says so (the `toggle` event that writes it comes a moment after the click)."""
    page.wait_for_function(
        "([key, collapsed]) => decodeURIComponent(document.cookie).split(/[;=,] ?/).includes(key) === collapsed",
        arg=[key, collapsed],
    )


def test_a_collapsed_section_stays_collapsed_after_a_reload_and_shows_its_unread_count(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    group = group_create(actor=alice, name="Hikers", member_usernames=["bob"])
    general = default_conversation(group)
    direct_open(actor=alice, username="bob")
    message_send(actor=alice, conversation_id=general.pk, body="trail report")
    page = login(new_context(), server, "bob")
    connected(page)
    hikers = section(page, f"group-{group.pk}")
    expect(hikers).to_have_attribute("open", "")
    expect(hikers.locator(".section-badge")).to_be_hidden()  # shown only while collapsed

    hikers.locator("summary").click()
    expect(hikers).not_to_have_attribute("open", "")
    expect(hikers.locator(".section-badge")).to_have_text("1")
    expect(hikers.locator(f"li[data-conversation-id='{general.pk}']")).to_be_hidden()
    remembered(page, f"group-{group.pk}", collapsed=True)

    page.reload()
    connected(page)
    assert page.evaluate(f"document.querySelector(\"[data-section='group-{group.pk}']\").open") is False
    expect(section(page, "direct")).to_have_attribute("open", "")
    # The full name on hover.
    expect(page.locator(f"#conversation-list li[data-conversation-id='{general.pk}'] a")).to_have_attribute(
        "title", "Hikers / general"
    )

    hikers.locator("summary").click()
    expect(hikers).to_have_attribute("open", "")
    remembered(page, f"group-{group.pk}", collapsed=False)
    page.reload()
    expect(section(page, f"group-{group.pk}")).to_have_attribute("open", "")


def test_a_conversation_gained_live_arrives_with_its_preview_time_and_section(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    older = group_create(actor=alice, name="Zebras", member_usernames=["bob"])
    hikers = group_create(actor=alice, name="Hikers", is_public=True)
    general = default_conversation(hikers)
    message_send(actor=alice, conversation_id=general.pk, body="Welcome to Hikers, read the pinned notes")

    context = new_context()
    page = login(context, server, "bob")
    connected(page)
    page.evaluate("window.__sameDocument = true")
    expect(section(page, f"group-{older.pk}")).to_have_count(1)

    # Bob joins from the group directory in another tab.
    other = context.new_page()
    other.goto(f"{server.url}/groups/")
    other.click("form[action$='/join/'] button[type=submit]")

    row = page.locator(f"#conversation-list li[data-conversation-id='{general.pk}']")
    expect(row.locator(".conversation-preview")).to_have_text("Welcome to Hikers, read the pinned notes")
    expect(row.locator("time.conversation-time")).to_have_attribute("datetime", general_time(general))
    expect(row.locator("time.conversation-time")).not_to_have_text("")
    expect(row.locator(".conversation-name")).to_have_text("Hikers / general")
    # In a new "Hikers" section, placed by name before "Zebras".
    keys = page.eval_on_selector_all(
        "#conversation-list details.sidebar-section", "els => els.map(e => e.dataset.section)"
    )
    assert keys == [f"group-{hikers.pk}", f"group-{older.pk}"]
    expect(section(page, f"group-{hikers.pk}").locator(".section-name")).to_have_text("Hikers")
    assert page.evaluate("window.__sameDocument === true")


def general_time(conversation) -> str:
    from django.utils import timezone

    conversation.refresh_from_db()
    return conversation.last_message_at.astimezone(timezone.get_current_timezone()).isoformat()


def test_starring_moves_the_row_to_starred_on_every_tab_of_the_user(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    group = group_create(actor=alice, name="Hikers", member_usernames=["bob"])
    general = default_conversation(group)
    context = new_context()
    page = login(context, server, "bob", f"/chats/{general.pk}/")
    other = context.new_page()
    other.goto(f"{server.url}/chats/")
    connected(page)
    connected(other)
    other.evaluate("window.__sameDocument = true")

    page.click("#star-form button")
    expect(page.locator("#star-form button")).to_have_attribute("aria-pressed", "true")
    for tab in (page, other):
        starred = section(tab, "starred")
        expect(starred.locator(f"li[data-conversation-id='{general.pk}']")).to_have_count(1)
        # Its group's section had no other row: it went.
        expect(section(tab, f"group-{group.pk}")).to_have_count(0)
    # The open conversation stays marked as the current one.
    expect(page.locator(f"#conversation-list li[data-conversation-id='{general.pk}'] a")).to_have_attribute(
        "aria-current", "page"
    )

    page.click("#star-form button")
    expect(page.locator("#star-form button")).to_have_attribute("aria-pressed", "false")
    expect(section(other, f"group-{group.pk}").locator(f"li[data-conversation-id='{general.pk}']")).to_have_count(1)
    expect(section(other, "starred")).to_have_count(0)
    assert other.evaluate("window.__sameDocument === true")
