"""Attachments: upload, send with a message (form and JSON), serving with its access rule and headers."""

import io
import urllib.request

import pytest
from PIL import Image

from groups import services as group_services
from messaging import services
from messaging.models import Attachment, Message
from tests.messaging.files import (
    ELF,
    HTML,
    PDF,
    PNG_MAGIC,
    SVG,
    form_send,
    gps_jpeg,
    image_bytes,
    latest_json,
    post_upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

ATTACHMENT_KEYS = {"id", "name", "size", "type", "url", "thumbnail_url", "width", "height"}


def download(client, attachment: dict, *, thumbnail=False):
    response = client.get(attachment["thumbnail_url"] if thumbnail else attachment["url"])
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return response, body


# --- sending ---------------------------------------------------------------------------------------


def test_js_off_form_sends_a_photo_and_a_pdf_with_the_text(login, cast, media):
    client = login(cast.member)
    response = form_send(
        client,
        cast.general.pk,
        "our trip",
        files=[("photo.jpg", gps_jpeg(), "image/jpeg"), ("plan.pdf", PDF, "application/pdf")],
    )
    assert response.status_code == 302
    message = latest_json(client, cast.general.pk)
    assert message["body"] == "our trip"
    photo, pdf = message["attachments"]
    assert set(photo) == ATTACHMENT_KEYS
    assert photo["name"] == "photo.jpg" and photo["type"] == "image/jpeg"
    assert (photo["width"], photo["height"]) == (800, 600)
    assert photo["thumbnail_url"] and photo["url"] != photo["thumbnail_url"]
    assert pdf == {
        "id": pdf["id"],
        "name": "plan.pdf",
        "size": len(PDF),
        "type": "application/pdf",
        "url": f"/files/{pdf['id']}/",
        "thumbnail_url": None,
        "width": None,
        "height": None,
    }
    assert len(photo["id"]) >= 20  # random, not a counter
    # The page shows them without JavaScript: a thumbnail linking to the image, and a file card.
    page = client.get(f"/chats/{cast.general.pk}/").content.decode()
    assert f'<img src="{photo["thumbnail_url"]}"' in page
    assert f'href="{pdf["url"]}" download="plan.pdf"' in page
    assert 'enctype="multipart/form-data"' in page and 'type="file" name="files"' in page


def test_a_message_may_be_files_only(login, cast):
    client = login(cast.member)
    assert form_send(client, cast.general.pk, "", files=[("a.png", image_bytes(), "image/png")]).status_code == 302
    message = latest_json(client, cast.general.pk)
    assert message["body"] == "" and len(message["attachments"]) == 1


def test_blank_text_without_files_is_still_refused(login, cast):
    client = login(cast.member)
    assert form_send(client, cast.general.pk, "  ").status_code == 400
    assert Message.objects.count() == 0


def test_upload_then_send_over_json_ids(login, cast):
    client = login(cast.member)
    response = post_upload(client, cast.general.pk, "notes.txt", b"hello\n", "text/plain")
    assert response.status_code == 201
    attachment = response.json()["attachment"]
    assert attachment["type"] == "text/plain" and attachment["size"] == 6
    # Before it is sent, only the uploader can fetch it.
    assert download(client, attachment)[0].status_code == 200
    assert download(login(cast.other_member), attachment)[0].status_code == 404
    message, _ = services.message_send(
        actor=cast.member, conversation_id=cast.general.pk, body="", attachments=[attachment["id"]]
    )
    assert message.as_json["attachments"] == [attachment]
    assert download(login(cast.other_member), attachment)[1] == b"hello\n"


def test_someone_elses_upload_or_a_sent_one_cannot_be_attached(login, cast):
    attachment = post_upload(login(cast.member), cast.general.pk, "a.txt", b"x").json()["attachment"]
    with pytest.raises(Exception, match="not uploaded"):
        services.message_send(
            actor=cast.other_member, conversation_id=cast.general.pk, body="mine", attachments=[attachment["id"]]
        )
    services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="1", attachments=[attachment["id"]])
    with pytest.raises(Exception, match="not uploaded"):
        services.message_send(
            actor=cast.member, conversation_id=cast.general.pk, body="2", attachments=[attachment["id"]]
        )
    assert list(Message.objects.values_list("body", flat=True)) == ["1"]  # the refused sends stored nothing


# --- type detection and safety -----------------------------------------------------------------


@pytest.mark.parametrize("claimed", ["image/webp", "application/octet-stream"])
def test_a_damaged_image_is_refused_415_and_nothing_is_stored(login, cast, media, claimed):
    """It starts with PNG's signature but cannot be decoded: refused, not kept as an `image/png` file."""
    client = login(cast.member)
    response = post_upload(client, cast.general.pk, "fake.webp", PNG_MAGIC + b"not really a png", claimed)
    assert response.status_code == 415
    assert response.json()["error"] == "type_refused"
    assert Attachment.objects.count() == 0 and media.files() == []


def test_a_damaged_image_in_the_composer_form_is_refused_415_with_the_text_kept(login, cast):
    client = login(cast.member)
    response = form_send(client, cast.general.pk, "look", files=[("a.png", PNG_MAGIC + b"garbage", "image/png")])
    assert response.status_code == 415
    assert "look" in response.content.decode()
    assert not Message.objects.filter(conversation=cast.general).exists()


@pytest.mark.parametrize(
    ("name", "content", "claimed", "kind", "detected"),
    [
        ("cat.jpg", image_bytes("PNG"), "image/jpeg", "image", "image/png"),  # a PNG named and claimed JPEG
        ("doc.pdf", image_bytes("GIF"), "application/pdf", "image", "image/gif"),
        ("photo.png", PDF, "image/png", "file", "application/pdf"),  # a PDF pretending to be an image
        ("image.png", SVG, "image/svg+xml", "file", "text/plain"),
        ("pic.gif", HTML, "text/html", "file", "text/plain"),
    ],
)
def test_type_comes_from_the_content_not_the_name_or_the_claim(login, cast, name, content, claimed, kind, detected):
    client = login(cast.member)
    response = post_upload(client, cast.general.pk, name, content, claimed)
    assert response.status_code == 201, response.content
    attachment = response.json()["attachment"]
    assert attachment["type"] == detected
    assert (attachment["thumbnail_url"] is not None) == (kind == "image")
    served, _body = download(client, attachment)
    disposition = served["Content-Disposition"]
    if kind == "image":
        assert disposition.startswith("inline")
        assert served["Content-Type"] == detected
    else:
        assert disposition.startswith("attachment")
        assert served["Content-Type"] != "text/html"


@pytest.mark.parametrize(("name", "content"), [("drawing.svg", SVG), ("page.html", HTML), ("page.htm", HTML)])
def test_svg_and_html_are_never_shown_inline(login, cast, name, content):
    client = login(cast.member)
    attachment = post_upload(client, cast.general.pk, name, content, "image/svg+xml").json()["attachment"]
    served, body = download(client, attachment)
    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment")
    assert served["Content-Type"].split(";")[0] not in ("image/svg+xml", "text/html")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Security-Policy"].startswith("sandbox")
    assert body == content  # the bytes as uploaded, only never rendered by the site


def test_every_file_response_has_the_safety_headers(login, cast):
    client = login(cast.member)
    form_send(client, cast.general.pk, "x", files=[("a.png", image_bytes(), "image/png"), ("b.pdf", PDF, "x/y")])
    image, pdf = latest_json(client, cast.general.pk)["attachments"]
    for response, _ in (download(client, image), download(client, image, thumbnail=True), download(client, pdf)):
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"].startswith("sandbox")
        assert "private" in response["Cache-Control"]


def test_gps_and_camera_metadata_are_stripped_from_photos(login, cast):
    client = login(cast.member)
    original = gps_jpeg()
    assert b"PhoneMaker" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    attachment = post_upload(client, cast.general.pk, "trip.jpg", original, "image/jpeg").json()["attachment"]
    services.message_send(actor=cast.member, conversation_id=cast.general.pk, body="", attachments=[attachment["id"]])
    for thumbnail in (False, True):
        _response, body = download(client, attachment, thumbnail=thumbnail)
        assert b"PhoneMaker" not in body and b"secret comment" not in body
        image = Image.open(io.BytesIO(body))
        assert not image.getexif()  # no EXIF at all, so no GPS position
        assert "exif" not in image.info and "comment" not in image.info


def test_bytes_after_an_image_are_dropped(login, cast):
    polyglot = image_bytes("PNG") + HTML
    attachment = post_upload(login(cast.member), cast.general.pk, "p.png", polyglot, "image/png").json()["attachment"]
    _response, body = download(login(cast.member), attachment)
    assert HTML not in body and body.startswith(PNG_MAGIC)


def test_thumbnails_have_a_fixed_width(login, cast, settings):
    client = login(cast.member)
    attachment = post_upload(client, cast.general.pk, "w.png", image_bytes(size=(1200, 600)), "image/png").json()[
        "attachment"
    ]
    _response, body = download(client, attachment, thumbnail=True)
    thumb = Image.open(io.BytesIO(body))
    assert thumb.format == "WEBP" and thumb.size == (settings.ATTACHMENT_THUMBNAIL_WIDTH, 160)


def test_decompression_bombs_are_refused_before_decoding(login, cast, settings, media):
    settings.ATTACHMENT_MAX_PIXELS = 1_000_000
    response = post_upload(login(cast.member), cast.general.pk, "bomb.png", image_bytes(size=(2000, 1000)))
    assert response.status_code == 413
    assert response.json()["error"] == "too_large" and "megapixels" in response.json()["detail"]
    assert Attachment.objects.count() == 0 and media.files() == []


def test_programs_are_refused(login, cast, media):
    response = post_upload(login(cast.member), cast.general.pk, "game.png", ELF, "image/png")
    assert response.status_code == 415 and response.json()["error"] == "type_refused"
    assert Attachment.objects.count() == 0 and media.files() == []


def test_file_names_are_cleaned_for_display_and_headers(login, cast):
    client = login(cast.member)
    name = '../../etc/pa"ss\r\nX-Evil: 1\u202etxt.exe'
    attachment = post_upload(client, cast.general.pk, name, b"data").json()["attachment"]
    assert "/" not in attachment["name"] and '"' not in attachment["name"] and "\n" not in attachment["name"]
    assert "\u202e" not in attachment["name"]
    served, _ = download(client, attachment)
    assert "\n" not in served["Content-Disposition"] and "X-Evil" not in served.headers


# --- access ------------------------------------------------------------------------------------


def shared(login, cast):
    client = login(cast.member)
    form_send(client, cast.general.pk, "x", files=[("a.png", image_bytes(), "image/png"), ("b.pdf", PDF, "x/y")])
    return latest_json(client, cast.general.pk)["attachments"]


def test_outsiders_and_anonymous_get_the_same_404_as_a_missing_file(login, cast):
    image, pdf = shared(login, cast)
    missing = {"url": "/files/AAAAAAAAAAAAAAAAAAAAAA/", "thumbnail_url": "/files/AAAAAAAAAAAAAAAAAAAAAA/thumbnail/"}
    expected = download(login(cast.member), missing)[0]
    assert expected.status_code == 404
    for client in (login(cast.outsider), login(None)):
        for attachment in (image, pdf):
            for thumbnail in (False, True) if attachment is image else (False,):
                response, body = download(client, attachment, thumbnail=thumbnail)
                assert response.status_code == 404
                assert body == expected.content
    assert download(login(cast.member), {"url": "/files/x%2F..%2F/"})[0].status_code == 404


def test_a_removed_member_loses_access_at_once(login, cast):
    image, pdf = shared(login, cast)
    client = login(cast.other_member)
    assert download(client, pdf)[0].status_code == 200
    group_services.member_remove(actor=cast.owner, group_id=cast.group.pk, username=cast.other_member.username)
    assert download(client, pdf)[0].status_code == 404
    assert download(client, image, thumbnail=True)[0].status_code == 404


def test_an_outsider_cannot_upload_into_a_conversation(login, cast, media):
    response = post_upload(login(cast.outsider), cast.general.pk, "a.txt", b"x")
    assert response.status_code == 404
    assert post_upload(login(None), cast.general.pk, "a.txt", b"x").status_code == 401
    assert Attachment.objects.count() == 0 and media.files() == []


def test_an_outsider_posting_no_file_gets_the_same_404_as_with_one(login, cast):
    """The missing `file` is a member's mistake; to anyone else the conversation does not exist."""
    url = f"/chats/{cast.general.pk}/attachments/"
    refused = login(cast.outsider).post(url, {})
    assert (refused.status_code, refused.json()["error"]) == (404, "not_found")
    missing = login(cast.member).post("/chats/999999/attachments/", {})
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    member = login(cast.member).post(url, {})
    assert (member.status_code, member.json()["error"]) == (400, "invalid")


def test_files_are_not_under_a_public_path(login, cast, client):
    image, _pdf = shared(login, cast)
    stored = Attachment.objects.get(pk=image["id"]).file
    assert client.get(f"/media/{stored}").status_code == 404
    assert client.get(f"/static/{stored}").status_code == 404


# --- production serving ------------------------------------------------------------------------


def test_behind_nginx_the_app_checks_access_and_hands_the_transfer_over(login, cast, settings):
    settings.FILES_SERVE = "nginx"
    image, pdf = shared(login, cast)
    response = login(cast.other_member).get(pdf["url"])
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/_files/" + Attachment.objects.get(pk=pdf["id"]).file
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    thumbnail = login(cast.other_member).get(image["thumbnail_url"])
    assert thumbnail["X-Accel-Redirect"] == "/_files/" + Attachment.objects.get(pk=image["id"]).thumbnail
    refused = login(cast.outsider).get(pdf["url"])
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


def test_on_s3_the_app_redirects_to_a_short_lived_presigned_url(login, cast, settings, media):
    if media.kind != "s3":
        pytest.skip("presigned URLs are an object store's")
    settings.FILES_SERVE = "redirect"
    _image, pdf = shared(login, cast)
    response = login(cast.other_member).get(pdf["url"])
    assert response.status_code == 302
    location = response["Location"]
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=60" in location
    assert "response-content-disposition=attachment" in location
    with urllib.request.urlopen(location) as fetched:  # noqa: S310 (the test's own S3 server on 127.0.0.1)
        assert fetched.read() == PDF
    assert login(cast.outsider).get(pdf["url"]).status_code == 404
