"""Attachments: limits and quota, every deletion path, the unsent-upload cleanup, the data export."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from groups import services as group_services
from messaging import services
from messaging.models import Attachment, Message
from tests.conftest import PASSWORD
from tests.messaging.files import PDF, form_send, image_bytes, latest_json, post_upload

# Real commits: stored bytes are deleted once the deleting transaction commits.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("media")]


def send_files(client, conversation_id, count=2, body="files"):
    files = [(f"f{n}.txt", f"file {n}\n".encode(), "text/plain") for n in range(count)]
    assert form_send(client, conversation_id, body, files=files).status_code == 302
    return latest_json(client, conversation_id)


# --- limits ----------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(login, cast, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 1000
    client = login(cast.member)
    response = post_upload(client, cast.general.pk, "big.bin", b"x" * 1001)
    assert response.status_code == 413, response.content
    assert response.json()["error"] == "too_large" and "1000 bytes" in response.json()["detail"]
    # The form says why, keeps the text, and stores neither the message nor any file.
    files = [("ok.txt", b"fine", "text/plain"), ("big.bin", b"x" * 1001, "application/octet-stream")]
    page = form_send(client, cast.general.pk, "keep this text", files=files)
    assert page.status_code == 413
    html = page.content.decode()
    assert "too large" in html and "keep this text</textarea>" in html
    assert Message.objects.count() == 0 and Attachment.objects.count() == 0 and media.files() == []


def test_at_most_ten_files_per_message(login, cast, settings, media):
    client = login(cast.member)
    files = [(f"{n}.txt", b"x", "text/plain") for n in range(settings.ATTACHMENT_MAX_PER_MESSAGE + 1)]
    response = form_send(client, cast.general.pk, "eleven", files=files)
    assert response.status_code == 400 and "at most 10 files" in response.content.decode()
    ids = [post_upload(client, cast.general.pk, f"{n}.txt", b"x").json()["attachment"]["id"] for n in range(11)]
    with pytest.raises(Exception, match="at most 10 files"):
        services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="x", attachments=ids)
    assert Message.objects.count() == 0
    assert Attachment.objects.filter(message__isnull=False).count() == 0


def test_the_quota_counts_what_is_stored_and_refuses_past_it(login, cast, settings, media):
    client = login(cast.member)
    first = post_upload(client, cast.general.pk, "a.pdf", PDF).json()["attachment"]
    settings.ATTACHMENT_QUOTA_BYTES = first["size"] + 10
    response = post_upload(client, cast.general.pk, "b.pdf", PDF)
    assert response.status_code == 413 and response.json()["error"] == "over_quota"
    assert Attachment.objects.count() == 1
    # Another member's quota is their own.
    assert post_upload(login(cast.other_member), cast.general.pk, "c.pdf", PDF).status_code == 201
    # Images count with their thumbnails, after re-encoding.
    settings.ATTACHMENT_QUOTA_BYTES = 10**9
    image = post_upload(client, cast.general.pk, "i.png", image_bytes()).json()["attachment"]
    stored = Attachment.objects.get(pk=image["id"])
    assert stored.size == image["size"] and stored.thumbnail_size > 0


def test_settings_page_shows_storage_used(login, cast):
    client = login(cast.member)
    post_upload(client, cast.general.pk, "a.txt", b"x" * 2048)
    html = client.get("/accounts/settings/").content.decode()
    assert 'id="storage-usage"' in html and "<strong>2.0 KiB</strong> of your 1.0 GiB" in html


# --- deletion paths -----------------------------------------------------------------------------------


def test_deleting_a_message_deletes_its_files(login, cast, media):
    client = login(cast.member)
    message = send_files(client, cast.general.pk)
    assert len(media.files()) == 2
    assert client.post(f"/chats/{cast.general.pk}/messages/{message['seq']}/delete/").status_code == 302
    assert Attachment.objects.count() == 0 and media.files() == []
    for attachment in message["attachments"]:
        assert client.get(attachment["url"]).status_code == 404
    assert latest_json(client, cast.general.pk)["attachments"] == []


def test_a_moderator_deleting_a_message_deletes_its_files_too(login, cast, media):
    message = send_files(login(cast.member), cast.general.pk)
    services.message_delete(actor=cast.admin, conversation_id=cast.general.pk, seq=message["seq"])
    assert Attachment.objects.count() == 0 and media.files() == []


def test_account_deletion_with_delete_my_messages_deletes_the_files(login, cast, media):
    client = login(cast.member)
    send_files(client, cast.general.pk)
    kept = send_files(login(cast.other_member), cast.general.pk, body="someone else's")
    response = client.post("/accounts/settings/delete/", {"password": PASSWORD, "delete_messages": "on"})
    assert response.status_code == 302
    assert set(Attachment.objects.values_list("pk", flat=True)) == {a["id"] for a in kept["attachments"]}
    assert len(media.files()) == 2


def test_account_deletion_keeping_messages_keeps_their_files(login, cast, media):
    client = login(cast.member)
    message = send_files(client, cast.general.pk)
    assert client.post("/accounts/settings/delete/", {"password": PASSWORD}).status_code == 302
    other = login(cast.other_member)
    for attachment in message["attachments"]:
        assert other.get(attachment["url"]).status_code == 200
    assert len(media.files()) == 2


def test_deleting_the_group_deletes_its_files(login, cast, media):
    send_files(login(cast.member), cast.general.pk)
    assert len(media.files()) == 2
    group_services.group_delete(actor=cast.owner, group_id=cast.group.pk)  # the rows go by cascade
    assert Attachment.objects.count() == 0 and media.files() == []


def test_prune_messages_removes_the_files_of_pruned_messages(login, cast, media, run_command):
    client = login(cast.member)
    old = send_files(client, cast.general.pk, body="old")
    new = send_files(client, cast.general.pk, body="new")
    Message.objects.filter(seq=old["seq"]).update(created_at=timezone.now() - timedelta(days=40))
    run_command("prune_messages", "--older-than", "30")
    assert set(Attachment.objects.values_list("pk", flat=True)) == {a["id"] for a in new["attachments"]}
    assert len(media.files()) == 2


def test_cleanup_deletes_uploads_never_sent_after_a_day(login, cast, media, run_command):
    client = login(cast.member)
    stale = post_upload(client, cast.general.pk, "stale.txt", b"old").json()["attachment"]
    fresh = post_upload(client, cast.general.pk, "fresh.txt", b"new").json()["attachment"]
    sent = send_files(client, cast.general.pk, count=1)["attachments"][0]
    Attachment.objects.filter(pk__in=[stale["id"], sent["id"]]).update(created_at=timezone.now() - timedelta(hours=25))
    assert "Deleted 1 unsent upload." in run_command("cleanup_attachments")
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh["id"], sent["id"]}
    assert len(media.files()) == 2


def test_the_data_export_lists_the_users_files(login, cast):
    client = login(cast.member)
    message = send_files(client, cast.general.pk, count=1)
    unsent = post_upload(client, cast.general.pk, "draft.txt", b"draft").json()["attachment"]
    send_files(login(cast.other_member), cast.general.pk, count=1)  # not theirs
    data = json.loads(b"".join(client.get("/accounts/settings/export/").streaming_content))
    sent = message["attachments"][0]
    assert [(f["id"], f["name"], f["size"], f["seq"]) for f in data["files"]] == [
        (sent["id"], "f0.txt", sent["size"], message["seq"]),
        (unsent["id"], "draft.txt", 5, None),
    ]
    assert set(data["files"][0]) == {"id", "name", "size", "type", "conversation", "seq", "created_at"}
