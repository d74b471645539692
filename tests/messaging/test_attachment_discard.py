"""Removing an upload before it is sent: it goes at once, bytes and quota included; nothing else can be removed."""

import pytest

from messaging import attachments
from messaging.models import Attachment
from tests.messaging.files import PDF, latest_json, post_upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def discard(client, attachment_id):
    return client.post(f"/files/{attachment_id}/discard/", HTTP_ACCEPT="application/json")


def test_the_uploader_discards_an_unsent_upload_and_its_quota_and_bytes_go_at_once(
    login, cast, media, django_capture_on_commit_callbacks
):
    client = login(cast.member)
    uploaded = post_upload(client, cast.general.pk, "notes.pdf", PDF).json()["attachment"]
    assert attachments.storage_used(cast.member) > 0
    assert media.files()
    with django_capture_on_commit_callbacks(execute=True):
        response = discard(client, uploaded["id"])
    assert response.status_code == 204
    assert not Attachment.objects.filter(pk=uploaded["id"]).exists()
    assert attachments.storage_used(cast.member) == 0
    assert media.files() == []
    assert client.get(uploaded["url"]).status_code == 404
    assert discard(client, uploaded["id"]).status_code == 404  # gone: the same answer as a missing id


def test_nobody_discards_someone_elses_upload_a_sent_one_or_a_missing_one(login, cast):
    owner = login(cast.member)
    unsent = post_upload(owner, cast.general.pk, "mine.pdf", PDF).json()["attachment"]
    sent = post_upload(owner, cast.general.pk, "sent.pdf", PDF).json()["attachment"]
    owner.post(f"/chats/{cast.general.pk}/", {"body": "here", "attachments": [sent["id"]]})
    assert [a["id"] for a in latest_json(owner, cast.general.pk)["attachments"]] == [sent["id"]]

    other = login(cast.other_member)
    for client, attachment_id in [(other, unsent["id"]), (owner, sent["id"]), (owner, "no-such-upload")]:
        response = discard(client, attachment_id)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert Attachment.objects.filter(pk__in=[unsent["id"], sent["id"]]).count() == 2
    assert [a["id"] for a in latest_json(owner, cast.general.pk)["attachments"]] == [sent["id"]]


def test_discarding_needs_a_login_and_a_post(login, cast):
    owner = login(cast.member)
    uploaded = post_upload(owner, cast.general.pk, "mine.pdf", PDF).json()["attachment"]
    assert login(None).post(f"/files/{uploaded['id']}/discard/").status_code == 401
    assert owner.get(f"/files/{uploaded['id']}/discard/").status_code == 405
    assert Attachment.objects.filter(pk=uploaded["id"]).exists()
