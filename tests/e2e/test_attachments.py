"""End to end in Chromium: sharing a photo and a PDF, with and without JavaScript.

A file dropped on the conversation uploads with a progress bar and, once sent, shows as a
thumbnail on the other member's open tab at once; a PDF picked with the file button shows
as a card. Without JavaScript the composer posts the files with the form. An outsider
cannot fetch either.
"""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.services import group_create
from messaging.attachments import cleanup_unattached
from messaging.models import Attachment, Message
from messaging.selectors import default_conversation
from tests.e2e.conftest import TIMEOUT_MS, connected, login
from tests.messaging.files import PDF, image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def chat(make_user):
    alice, _bob = make_user("alice", display_name="Alice A."), make_user("bob")
    make_user("nora")
    group = group_create(actor=alice, name="Trip", member_usernames=["bob"])
    return default_conversation(group)


def drop_file(page: Page, selector: str, name: str, content: bytes, mime: str) -> None:
    """Drag a file from the desktop onto an element: a DataTransfer with the file, then `drop`."""
    page.evaluate(
        """([selector, name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const target = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
            }
        }""",
        [selector, name, base64.b64encode(content).decode(), mime],
    )


def test_a_dropped_photo_shows_live_on_the_other_members_tab(server, new_context, chat):
    path = f"/chats/{chat.pk}/"
    alice = login(new_context(), server, "alice", path)
    bob = login(new_context(), server, "bob", path)
    connected(alice)
    connected(bob)

    drop_file(alice, ".conversation-main", "beach.png", image_bytes(size=(800, 400)), "image/png")
    expect(alice.locator(".upload-tray .upload.done")).to_have_count(1)
    expect(alice.locator(".upload-tray .upload-name")).to_have_text("beach.png")
    # A PDF through the picker button, into the same message.
    alice.set_input_files(
        "#composer-files", files=[{"name": "tickets.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(alice.locator(".upload-tray .upload.done")).to_have_count(2)
    alice.fill("#composer textarea", "our trip")
    alice.press("#composer textarea", "Enter")

    for page in (bob, alice):
        item = page.locator("#messages li.message", has_text="our trip")
        image = item.locator("li.attachment.image img")
        expect(image).to_have_count(1)
        expect(image).to_have_attribute("alt", "beach.png")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        expect(item.locator("li.attachment.file .file-name")).to_have_text("tickets.pdf")
    expect(alice.locator(".upload-tray")).to_be_hidden()

    # Bob opens the full image and downloads the PDF; Nora, not in the group, gets 404 for both.
    attachments = list(Attachment.objects.order_by("position"))
    assert [a.name for a in attachments] == ["beach.png", "tickets.pdf"]
    photo = bob.request.get(f"{server.url}/files/{attachments[0].pk}/")
    assert photo.status == 200 and photo.headers["content-type"] == "image/png"
    pdf = bob.request.get(f"{server.url}/files/{attachments[1].pk}/")
    assert pdf.status == 200 and pdf.body() == PDF and pdf.headers["content-disposition"].startswith("attachment")
    nora = login(new_context(), server, "nora")
    for attachment in attachments:
        assert nora.request.get(f"{server.url}/files/{attachment.pk}/").status == 404


def test_a_refused_upload_says_why_and_keeps_the_text(server, new_context, chat):
    alice = login(new_context(), server, "alice", f"/chats/{chat.pk}/")
    connected(alice)
    alice.fill("#composer textarea", "see attached")
    program = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
    alice.set_input_files("#composer-files", files=[{"name": "run.png", "mimeType": "image/png", "buffer": program}])
    expect(alice.locator(".upload-tray .upload.failed .upload-status")).to_contain_text("Programs cannot be shared")
    expect(alice.locator("#composer-error")).to_contain_text("run.png")
    expect(alice.locator("#composer textarea")).to_have_value("see attached")
    assert Attachment.objects.count() == 0


def test_without_javascript_the_form_posts_the_files(server, browser, chat):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = login(context, server, "bob", f"/chats/{chat.pk}/")
        page.fill("#composer textarea", "")
        page.set_input_files(
            "#composer-files",
            files=[
                {"name": "sunset.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG")},
                {"name": "plan.pdf", "mimeType": "application/pdf", "buffer": PDF},
            ],
        )
        page.click("#composer button[type=submit]")
        page.wait_for_url(f"{server.url}/chats/{chat.pk}/?latest=1")
        item = page.locator("#messages li.message").last
        expect(item.locator("li.attachment.image img")).to_have_attribute("alt", "sunset.jpg")
        expect(item.locator("li.attachment.file .file-name")).to_have_text("plan.pdf")
    finally:
        context.close()


def test_a_file_over_the_size_limit_is_refused_before_uploading_and_says_why(server, new_context, chat):
    alice = login(new_context(), server, "alice", f"/chats/{chat.pk}/")
    connected(alice)
    alice.fill("#composer textarea", "the raw footage")
    # A file one byte over ATTACHMENT_MAX_BYTES, made in the page (25 MiB through the test would be slow).
    alice.evaluate(
        """() => {
            const form = document.getElementById("composer");
            const size = Number(form.dataset.maxFileBytes) + 1;
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(size)], "raw.mov", { type: "video/quicktime" }));
            const target = document.querySelector(".conversation-main");
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
            }
        }"""
    )
    status = alice.locator(".upload-tray .upload.failed .upload-status")
    expect(status).to_contain_text("too large")
    expect(status).to_contain_text("at most 25.0 MiB")
    expect(alice.locator("#composer-error")).to_contain_text("raw.mov")
    expect(alice.locator("#composer textarea")).to_have_value("the raw footage")
    assert Attachment.objects.count() == 0


def test_a_send_refused_by_the_server_keeps_the_text_and_the_files_and_says_why(server, new_context, chat):
    alice = login(new_context(), server, "alice", f"/chats/{chat.pk}/")
    connected(alice)
    alice.set_input_files(
        "#composer-files", files=[{"name": "tickets.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(alice.locator(".upload-tray .upload.done")).to_have_count(1)
    # The upload is gone from the server before the message names it (as after the unsent-upload cleanup).
    assert cleanup_unattached(now=timezone.now() + timedelta(days=2)) == 1
    alice.fill("#composer textarea", "our tickets")
    alice.press("#composer textarea", "Enter")

    expect(alice.locator("#composer-error")).to_have_text(
        "Not sent: Those files are not uploaded (or were already sent)."
    )
    expect(alice.locator("#composer textarea")).to_have_value("our tickets")
    expect(alice.locator(".upload-tray")).to_be_visible()
    expect(alice.locator(".upload-tray .upload.done .upload-name")).to_have_text("tickets.pdf")
    expect(alice.locator("#messages li.message")).to_have_count(0)
    assert not Message.objects.exists()


def test_a_pasted_image_is_sent_and_a_cancelled_file_is_not(server, new_context, chat):
    alice = login(new_context(), server, "alice", f"/chats/{chat.pk}/")
    connected(alice)
    alice.evaluate(
        """([b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "screenshot.png", { type: "image/png" }));
            const box = document.querySelector("#composer textarea");
            const paste = new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: transfer });
            box.dispatchEvent(paste);
        }""",
        [base64.b64encode(image_bytes(size=(300, 200))).decode()],
    )
    alice.set_input_files(
        "#composer-files", files=[{"name": "draft.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    expect(alice.locator(".upload-tray .upload.done")).to_have_count(2)
    with alice.expect_response(lambda response: "/discard/" in response.url) as discarded:
        alice.locator(".upload-tray .upload", has_text="draft.pdf").locator("button.upload-cancel").click()
    assert discarded.value.status == 204  # removed on the server at once, out of the quota
    assert not Attachment.objects.filter(name="draft.pdf").exists()
    expect(alice.locator(".upload-tray .upload")).to_have_count(1)
    expect(alice.locator(".upload-tray .upload-name")).to_have_text("screenshot.png")
    alice.fill("#composer textarea", "look")
    alice.press("#composer textarea", "Enter")

    item = alice.locator("#messages li.message", has_text="look")
    expect(item.locator("li.attachment.image img")).to_have_attribute("alt", "screenshot.png")
    expect(item.locator("li.attachment")).to_have_count(1)
    sent = Attachment.objects.filter(message__isnull=False)
    assert [a.name for a in sent] == ["screenshot.png"]
