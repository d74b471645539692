"""End to end in Chromium: a new person opens an invite link, signs up, joins the group and chats."""

import re

import pytest
from playwright.sync_api import expect

from groups.models import Group
from tests.conftest import PASSWORD
from tests.e2e.conftest import TIMEOUT_MS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def test_a_new_user_joins_through_an_invite_link_and_chats(server, new_context, make_user):
    make_user("alice", display_name="Alice A.")
    alice = login(new_context(), server, "alice")
    alice.goto(f"{server.url}/groups/new/")
    alice.fill("main input[name=name]", "Hikers")
    alice.click("main form button[type=submit]")
    alice.wait_for_url(re.compile(r"/chats/\d+/$"))
    general_url = alice.url
    group = Group.objects.get(name="Hikers")

    # Alice makes a link on the group's invites page.
    alice.goto(f"{server.url}/groups/{group.pk}/invites/")
    alice.select_option("main select[name=expires]", "1d")
    alice.click("main form button[type=submit]")
    link = alice.input_value("#new-invite-link")
    assert re.fullmatch(rf"{re.escape(server.url)}/invite/[\w-]+/", link)
    alice.goto(general_url)
    alice.wait_for_selector("html[data-socket=connected]")

    # Someone without an account opens it, signs up from there, and comes back to join.
    newcomer = new_context().new_page()
    newcomer.goto(link)
    expect(newcomer.locator("h1")).to_have_text("Hikers")
    newcomer.click("main a:has-text('Sign up')")
    newcomer.fill("input[name=username]", "newbie")
    newcomer.fill("input[name=email]", "newbie@example.com")
    newcomer.fill("input[name=password1]", PASSWORD)
    newcomer.fill("input[name=password2]", PASSWORD)
    newcomer.click("main form button[type=submit]")
    newcomer.wait_for_url(link)
    newcomer.click("text=Join Hikers")
    newcomer.wait_for_url(general_url)
    newcomer.wait_for_selector("html[data-socket=connected]")

    newcomer.fill("#composer textarea", "Hi all, glad to be here")
    newcomer.press("#composer textarea", "Enter")
    expect(alice.locator("#messages li.message .message-body").last).to_have_text("Hi all, glad to be here")

    alice.fill("#composer textarea", "Welcome!")
    alice.press("#composer textarea", "Enter")
    expect(newcomer.locator("#messages li.message .message-body").last).to_have_text("Welcome!")
