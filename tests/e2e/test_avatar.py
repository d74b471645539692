"""End to end in Chromium: a picture uploaded on the settings page (a plain form) shows at once on
the author's messages in another member's open tab, and the initial comes back when it is removed."""

import re

import pytest
from playwright.sync_api import expect

from groups.services import group_create
from messaging.selectors import default_conversation
from messaging.services import message_send
from tests.e2e.conftest import TIMEOUT_MS, assert_accessible, login
from tests.messaging.files import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


def test_a_new_picture_shows_on_her_messages_in_another_members_open_tab(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    general = default_conversation(group_create(actor=alice, name="Hikers", member_usernames=["bob"]))
    message_send(actor=alice, conversation_id=general.pk, body="from alice")

    page = login(new_context(), server, "bob", f"/chats/{general.pk}/")
    page.wait_for_selector("html[data-socket=connected]")
    page.evaluate("window.__sameDocument = true")
    her_avatar = page.locator(f"#messages li.message[data-author-id='{alice.pk}'] > [data-user-avatar='{alice.pk}']")
    expect(her_avatar).to_have_text("A")

    settings = login(new_context(), server, "alice", "/accounts/settings/")
    settings.set_input_files(
        "input[name=avatar]", files=[{"name": "me.png", "mimeType": "image/png", "buffer": image_bytes()}]
    )
    settings.click("button:has-text('Upload picture')")
    settings.wait_for_url(f"{server.url}/accounts/settings/")
    expect(settings.get_by_text("Picture saved.")).to_be_visible()

    expect(her_avatar).to_have_js_property("tagName", "IMG")
    expect(her_avatar).to_have_attribute("src", f"/people/alice/avatar/?v={_version(alice)}")
    page.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.complete && img.naturalWidth === 256; }",
        arg=f"#messages li.message[data-author-id='{alice.pk}'] > img[data-user-avatar='{alice.pk}']",
    )
    assert page.evaluate("window.__sameDocument === true")  # live, not reloaded
    # Pictures are decoration beside the name (alt=""): the pages pass axe-core's checks with them.
    settings.goto(f"{server.url}/people/alice/")  # her picture, large, on her profile
    assert_accessible(settings, "her profile with a picture")
    settings.goto(f"{server.url}/accounts/settings/")
    assert_accessible(settings, "settings with a picture")
    assert_accessible(page, "a conversation with her picture")

    settings.click("button:has-text('Remove picture')")
    settings.wait_for_url(f"{server.url}/accounts/settings/")
    expect(her_avatar).to_have_js_property("tagName", "SPAN")
    expect(her_avatar).to_have_text("A")


def _version(user) -> str:
    user.refresh_from_db()
    return user.avatar_url.rsplit("=", 1)[-1]


def test_a_direct_conversation_gained_live_shows_the_other_persons_picture(server, new_context, make_user):
    """Alice (with a picture, uploaded on her settings page) starts a direct conversation with Bob through
    the /dm/ form: the row that arrives live on Bob's open page shows her picture, as the server renders it."""
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    page = login(new_context(), server, "bob", "/chats/")
    page.wait_for_selector("html[data-socket=connected]")

    hers = login(new_context(), server, "alice", "/accounts/settings/")
    hers.set_input_files(
        "input[name=avatar]", files=[{"name": "me.png", "mimeType": "image/png", "buffer": image_bytes()}]
    )
    hers.click("button:has-text('Upload picture')")
    expect(hers.get_by_text("Picture saved.")).to_be_visible()
    hers.goto(f"{server.url}/dm/")
    hers.fill("main input[name=username]", "bob")
    hers.click("main form button[type=submit]")
    hers.wait_for_url(re.compile(r"/chats/\d+/$"))
    direct_id = int(hers.url.rstrip("/").rsplit("/", 1)[-1])

    alice.refresh_from_db()
    src = f"/people/alice/avatar/?v={_version(alice)}"
    avatar = page.locator(f"#conversation-list li[data-conversation-id='{direct_id}'] [data-user-avatar='{alice.pk}']")
    expect(avatar).to_have_js_property("tagName", "IMG")
    expect(avatar).to_have_attribute("src", src)
    page.reload()  # the server renders the same row
    expect(avatar).to_have_attribute("src", src)
