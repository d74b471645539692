"""Themes: light, dark or the system's, set on <html> by the server (no flash), chosen on the settings
page (a plain form); and dark pages pass the same axe-core checks as light ones."""

import pytest
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.selectors import default_conversation
from messaging.services import direct_open, message_send
from tests.e2e.conftest import TIMEOUT_MS, accessibility_violations, assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def test_dark_pages_pass_the_same_axe_checks_as_light_ones(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    bob = make_user("bob", display_name="Bob B.")
    group = group_create(actor=alice, name="Hikers", member_usernames=["bob"])
    general = default_conversation(group)
    direct, _ = direct_open(actor=bob, username="alice")
    message_send(actor=alice, conversation_id=general.pk, body="**Trail** report: `muddy`, see @bob")
    message_send(actor=alice, conversation_id=direct.pk, body="psst")
    paths = ["/chats/", f"/chats/{general.pk}/", "/accounts/settings/", "/people/", "/groups/"]
    page = login(new_context(), server, "bob")
    seen = {}
    for theme in ("light", "dark"):
        page.goto(f"{server.url}/accounts/settings/")
        page.check(f"#id_theme_{theme}")
        page.click("#theme-form button[type=submit]")
        page.wait_for_url(f"{server.url}/accounts/settings/")
        for path in paths:
            page.goto(f"{server.url}{path}")
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            assert_accessible(page, f"{path} in the {theme} theme")
        seen[theme] = background(page)
    assert seen["light"] != seen["dark"]
    # The check finds what it looks for: grey on grey, on one of these pages, is a contrast violation.
    page.goto(f"{server.url}/people/")
    page.evaluate(
        """() => document.querySelector("main").append(Object.assign(document.createElement("p"),
            {textContent: "faint", style: "color: #777; background: #888"}))"""
    )
    assert "color-contrast" in {violation["id"] for violation in accessibility_violations(page)}
