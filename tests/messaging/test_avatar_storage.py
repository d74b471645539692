"""Avatars live in the `attachments` storage beside shared files: on the local disk and on an
S3-compatible store alike (this folder's `media` fixture runs each test on both), a picture is
stored, served, replaced and removed without leaving a file behind."""

import io

import pytest
from PIL import Image

from tests.messaging.files import image_bytes, upload

pytestmark = pytest.mark.django_db


def test_a_picture_round_trips_through_either_storage(login, cast, media, django_capture_on_commit_callbacks):
    owner = login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post("/accounts/settings/avatar/", {"avatar": upload("a.png", image_bytes())}).status_code == 302
        assert owner.post("/accounts/settings/avatar/", {"avatar": upload("b.png", image_bytes())}).status_code == 302
    cast.owner.refresh_from_db()
    assert len(media.files()) == 1 and media.files()[0].endswith(cast.owner.avatar)
    response = login(cast.member).get(cast.owner.avatar_url)
    assert response.status_code == 200 and Image.open(io.BytesIO(response.content)).size == (256, 256)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.post("/accounts/settings/avatar/", {"action": "remove"}).status_code == 302
    assert media.files() == []
