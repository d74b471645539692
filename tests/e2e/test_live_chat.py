"""End to end in Chromium against the production server: two people chatting live, losing access, and
a page riding out a server restart.

Set-up goes through the real pages (log-in, the new-group form, the group page's
remove button and its dialog, the composer). Pages are marked with a window property once loaded:
it is still there at the end only if nothing was reloaded.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from groups.models import Group
from groups.services import group_create
from messaging.models import Message
from messaging.selectors import default_conversation
from messaging.services import message_send, read_mark
from tests.e2e.conftest import TIMEOUT_MS, compose, connected, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)
RECONNECT_TIMEOUT_MS = 45_000  # the backoff may be several seconds into its wait when the server returns


def mark_loaded(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def not_reloaded(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def seqs(page: Page) -> list[int]:
    return page.eval_on_selector_all("#messages li.message[data-seq]", "els => els.map(e => Number(e.dataset.seq))")


def bodies(page: Page) -> list[str]:
    return page.eval_on_selector_all("#messages li.message .message-body", "els => els.map(e => e.textContent.trim())")


def row(page: Page, conversation_id: int):
    return page.locator(f"#conversation-list li[data-conversation-id='{conversation_id}']")


def test_two_members_chat_live_until_one_is_removed(server, new_context, make_user):
    make_user("alice", display_name="Alice A.")
    make_user("bob")
    alice = login(new_context(), server, "alice")
    bob = login(new_context(), server, "bob")  # on /chats/, with no conversations yet
    connected(bob)
    mark_loaded(bob)

    # Alice creates a group with Bob through the form; it opens its "general" conversation.
    alice.goto(f"{server.url}/groups/new/")
    alice.fill("main input[name=name]", "Hikers")
    alice.fill("main input[name=members]", "bob")
    alice.click("main form button[type=submit]")
    alice.wait_for_url(re.compile(r"/chats/\d+/$"))
    conversation_id = int(alice.url.rstrip("/").rsplit("/", 1)[1])
    group_id = Group.objects.get(name="Hikers").pk
    connected(alice)

    # Bob's list gains the conversation without a reload.
    expect(row(bob, conversation_id).locator(".conversation-name")).to_have_text("Hikers / general")

    compose(alice, "Hello Bob, welcome to Hikers!")
    expect(alice.locator("#messages li.message[data-seq='1'] .message-body")).to_have_text(
        "Hello Bob, welcome to Hikers!"
    )
    expect(alice.locator("#composer textarea")).to_have_value("")
    # Bob, on /chats/, sees the unread badge and the preview move in.
    expect(row(bob, conversation_id).locator(".badge")).to_have_text("1")
    expect(row(bob, conversation_id).locator(".badge")).to_be_visible()
    expect(row(bob, conversation_id).locator(".conversation-preview")).to_have_text("Hello Bob, welcome to Hikers!")
    assert not_reloaded(bob)

    # Bob opens the conversation; from then on messages appear in it live.
    row(bob, conversation_id).locator("a").click()
    bob.wait_for_url(f"{server.url}/chats/{conversation_id}/")
    connected(bob)
    mark_loaded(bob)
    mark_loaded(alice)
    expect(row(bob, conversation_id).locator(".badge")).to_be_hidden()
    compose(alice, "Second message")
    expect(bob.locator("#messages li.message[data-seq='2'] .message-body")).to_have_text("Second message")

    # Bob types: Alice sees it. Bob replies with Enter: Alice gets the reply and the indicator goes.
    bob.locator("#composer textarea").press_sequentially("Hi Alice", delay=20)
    expect(alice.locator("#typing")).to_have_text("bob is typing…")
    bob.press("#composer textarea", "Shift+Enter")
    bob.locator("#composer textarea").press_sequentially("second line")
    expect(bob.locator("#composer textarea")).to_have_value("Hi Alice\nsecond line")
    bob.press("#composer textarea", "Enter")
    expect(alice.locator("#messages li.message[data-seq='3'] .message-body")).to_have_text("Hi Alice\nsecond line")
    expect(alice.locator("#typing")).to_have_text("")
    # Alice's tab is visible, so she marks it read, and Bob sees who has seen his message.
    expect(bob.locator("#seen-by")).to_have_text("Seen by Alice A.")
    assert seqs(alice) == [1, 2, 3]
    assert seqs(bob) == [1, 2, 3]
    assert not_reloaded(alice) and not_reloaded(bob)

    # Alice removes Bob from the group page (in another tab), confirming in the dialog.
    admin_tab = alice.context.new_page()
    admin_tab.goto(f"{server.url}/groups/{group_id}/")
    admin_tab.click("main a[href$='/members/bob/remove/']")
    dialog = admin_tab.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Remove bob from Hikers?")
    dialog.locator("button[type=submit]").click()
    admin_tab.wait_for_url(f"{server.url}/groups/{group_id}/")

    # Bob's open page says so at once, stops offering the composer, and drops the row.
    expect(bob.locator("#removed-notice")).to_contain_text("no longer a member")
    expect(bob.locator("#composer textarea")).to_be_disabled()
    expect(row(bob, conversation_id)).to_have_count(0)

    # Alice's next message is stored and shown to her, but does not reach Bob.
    compose(alice, "Bob should not see this")
    expect(alice.locator("#messages li.message[data-seq='4'] .message-body")).to_have_text("Bob should not see this")
    # Then she writes to Bob directly: once that reaches Bob's page, the group message
    # (sent before) would have too, had it been delivered.
    admin_tab.goto(f"{server.url}/dm/")
    admin_tab.fill("main input[name=username]", "bob")
    admin_tab.click("main form button[type=submit]")
    admin_tab.wait_for_url(re.compile(r"/chats/\d+/$"))
    direct_id = int(admin_tab.url.rstrip("/").rsplit("/", 1)[1])
    connected(admin_tab)
    compose(admin_tab, "Sorry, wrong group")
    expect(row(bob, direct_id).locator(".badge")).to_have_text("1")
    expect(row(bob, direct_id).locator(".conversation-name")).to_have_text("Alice A.")
    assert seqs(bob) == [1, 2, 3]
    assert "Bob should not see this" not in bob.inner_text("body")
    assert not_reloaded(bob)


def test_page_rides_out_a_server_restart_and_shows_what_it_missed_once_in_order(server, new_context, make_user, client):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    group = group_create(actor=alice, name="Night shift", member_usernames=["bob"])
    conversation = default_conversation(group)
    message_send(actor=alice, conversation_id=conversation.pk, body="before the outage")

    bob = login(new_context(), server, "bob", f"/chats/{conversation.pk}/")
    connected(bob)
    mark_loaded(bob)
    assert seqs(bob) == [1]

    server.stop()
    expect(bob.locator("#connection-banner")).to_be_visible()
    expect(bob.locator("#connection-banner")).to_contain_text("Reconnecting…")

    # While the page is cut off, Alice posts through the plain HTTP form...
    client.force_login(alice)
    for text in ["one", "two", "three"]:
        response = client.post(f"/chats/{conversation.pk}/", {"body": text})
        assert response.status_code == 302
    # ...and edits the message Bob already has on screen...
    response = client.post(f"/chats/{conversation.pk}/messages/1/edit/", {"body": "before the outage, edited"})
    assert response.status_code == 302
    # ...and adds Bob to a new group, whose conversation.added nobody is there to receive.
    added = default_conversation(group_create(actor=alice, name="Added while away", member_usernames=["bob"]))
    # ...and Bob writes too: queued, then sent with its client_id once the socket is back.
    compose(bob, "bob, while away")
    expect(bob.locator("#messages li.message.pending .message-status")).to_have_text("waiting for the connection…")

    server.start()
    expect(bob.locator("#connection-banner")).to_be_hidden(timeout=RECONNECT_TIMEOUT_MS)
    expect(bob.locator("#messages li.message[data-seq='5'] .message-body")).to_have_text("bob, while away")
    expect(bob.locator("#messages li.message.pending")).to_have_count(0)
    expect(row(bob, added.pk).locator(".conversation-name")).to_have_text("Added while away / general")
    assert seqs(bob) == [1, 2, 3, 4, 5]
    expect(bob.locator("#messages li.message[data-seq='1'] .message-body")).to_have_text("before the outage, edited")
    expect(bob.locator("#messages li.message[data-seq='1'] .edited")).to_have_text("(edited)")
    assert bodies(bob) == ["before the outage, edited", "one", "two", "three", "bob, while away"]
    assert not_reloaded(bob)
    assert list(Message.objects.filter(conversation=conversation).order_by("seq").values_list("body", flat=True)) == [
        "before the outage, edited",
        "one",
        "two",
        "three",
        "bob, while away",
    ]

    # Live again: a message Alice sends from her browser arrives without a reload, after the rest.
    alice_page = login(new_context(), server, "alice", f"/chats/{conversation.pk}/")
    connected(alice_page)
    compose(alice_page, "welcome back")
    expect(bob.locator("#messages li.message[data-seq='6'] .message-body")).to_have_text("welcome back")
    assert seqs(bob) == [1, 2, 3, 4, 5, 6]


def test_history_edits_and_deletions_are_live(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    bob_user = make_user("bob")
    group = group_create(actor=alice, name="Archive", member_usernames=["bob"])
    conversation = default_conversation(group)
    for n in range(1, 61):
        message_send(actor=alice, conversation_id=conversation.pk, body=f"old message {n}")
    read_mark(actor=bob_user, conversation_id=conversation.pk, seq=60)  # read: the page opens at the newest

    bob = login(new_context(), server, "bob", f"/chats/{conversation.pk}/")
    alice_page = login(new_context(), server, "alice", f"/chats/{conversation.pk}/")
    connected(bob)
    connected(alice_page)
    mark_loaded(bob)
    assert seqs(bob) == list(range(11, 61))  # the newest page

    # "Load older" fetches the history endpoint and puts the rest above, once each.
    bob.click("#older-link")
    expect(bob.locator("#messages li.message[data-seq='1']")).to_be_attached()
    assert seqs(bob) == list(range(1, 61))
    assert bodies(bob)[:2] == ["old message 1", "old message 2"]
    expect(bob.locator("#older-link")).to_have_count(0)  # nothing older is left

    # Alice edits her newest message in place (menu, Edit, Enter): Bob sees the new text.
    newest = alice_page.locator("#messages li.message[data-seq='60']")
    newest.locator(".message-actions summary").click()
    newest.locator("a.message-edit").click()
    alice_page.fill("#messages li.message[data-seq='60'] textarea.edit-body", "old message 60, corrected")
    alice_page.press("#messages li.message[data-seq='60'] textarea.edit-body", "Enter")
    expect(bob.locator("#messages li.message[data-seq='60'] .message-body")).to_have_text("old message 60, corrected")
    expect(bob.locator("#messages li.message[data-seq='60'] .edited")).to_be_visible()
    expect(newest.locator(".edited")).to_be_visible()

    # And deletes another after confirming: it is gone for both, its place kept.
    alice_page.once("dialog", lambda dialog: dialog.accept())
    second = alice_page.locator("#messages li.message[data-seq='59']")
    second.locator(".message-actions summary").click()
    second.locator("form.message-delete button").click()
    expect(bob.locator("#messages li.message.deleted[data-seq='59'] .message-body")).to_have_text(
        "This message was deleted."
    )
    expect(second).to_have_class(re.compile(r"\bdeleted\b"))
    assert Message.objects.get(conversation=conversation, seq=59).deleted
    assert Message.objects.get(conversation=conversation, seq=60).body == "old message 60, corrected"
    assert seqs(bob) == list(range(1, 61))
    assert not_reloaded(bob)


def test_without_a_socket_the_composer_posts_the_form(server, new_context, make_user):
    alice = make_user("alice", display_name="Alice A.")
    make_user("bob")
    group = group_create(actor=alice, name="Offline", member_usernames=["bob"])
    conversation = default_conversation(group)

    context = new_context()
    # A proxy that swallows WebSockets: the socket opens but the server never says hello.
    context.route_web_socket(re.compile(r"/ws/$"), lambda ws: None)
    page = login(context, server, "alice", f"/chats/{conversation.pk}/")
    expect(page.locator("html")).not_to_have_attribute("data-socket", "connected")
    mark_loaded(page)

    compose(page, "sent the old way")
    page.wait_for_url(f"{server.url}/chats/{conversation.pk}/?latest=1")
    expect(page.locator("#messages li.message[data-seq='1'] .message-body")).to_have_text("sent the old way")
    assert not not_reloaded(page)  # a full page load, as without JavaScript
    assert Message.objects.get(conversation=conversation, seq=1).body == "sent the old way"
