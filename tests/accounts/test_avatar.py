"""A picture in place of the initial: uploaded and removed on the settings page (a plain form),
stored square and clean, served to logged-in users, shown wherever the person is, gone with the account."""

import io
import json

import pytest
from django.core.files.storage import storages
from PIL import Image

from accounts.models import User
from groups import services as group_services
from messaging import services as messaging_services
from tests.conftest import PASSWORD
from tests.messaging.files import HTML, PDF, SVG, gps_jpeg, image_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """The attachments storage on a fresh folder; returns what it holds."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return lambda: sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def post_avatar(client, content: bytes, name: str = "me.png", content_type: str = "image/png"):
    return client.post("/accounts/settings/avatar/", {"avatar": upload(name, content, content_type)})


def stored_image(user: User) -> Image.Image:
    user.refresh_from_db()
    with storages["attachments"].open(user.avatar, "rb") as stored:
        return Image.open(io.BytesIO(stored.read()))


def three_bands(size=(300, 100)) -> bytes:
    """Red, green and blue thirds side by side: a centre crop keeps the green one."""
    image = Image.new("RGB", size)
    third = size[0] // 3
    for index, colour in enumerate(((255, 0, 0), (0, 255, 0), (0, 0, 255))):
        image.paste(colour, (index * third, 0, (index + 1) * third, size[1]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# Upload, replace, remove -----------------------------------------------------------------------


def test_an_upload_is_stored_as_a_square_webp_cropped_from_the_centre(alice_client, alice, media, settings):
    response = post_avatar(alice_client, three_bands())
    assert response.status_code == 302 and response["Location"] == "/accounts/settings/"
    image = stored_image(alice)
    assert image.format == "WEBP" and image.size == (settings.AVATAR_SIZE, settings.AVATAR_SIZE)
    for x in (5, settings.AVATAR_SIZE // 2, settings.AVATAR_SIZE - 5):  # all of it from the green third
        red, green, blue = image.convert("RGB").getpixel((x, settings.AVATAR_SIZE // 2))
        assert green > 200 and red < 40 and blue < 40
    assert media() == [alice.avatar]
    assert alice.avatar.startswith("avatars/") and "me" not in alice.avatar.rsplit("/", 1)[-1]  # a random name

    page = alice_client.get("/accounts/settings/").content.decode()
    assert f'src="{alice.avatar_url}"' in page and "Remove picture" in page


def test_camera_metadata_is_not_kept(alice_client, alice):
    assert b"PhoneMaker" in gps_jpeg()
    assert post_avatar(alice_client, gps_jpeg(), "photo.jpg", "image/jpeg").status_code == 302
    image = stored_image(alice)
    assert not image.getexif() and not {"exif", "xmp", "comment", "icc_profile"} & set(image.info)
    with storages["attachments"].open(alice.avatar, "rb") as stored:
        data = stored.read()
    assert b"PhoneMaker" not in data and b"secret comment" not in data


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP"])
def test_the_other_three_types_are_accepted(alice_client, alice, fmt):
    assert (
        post_avatar(alice_client, image_bytes(fmt, size=(64, 80)), "pic", "application/octet-stream").status_code == 302
    )
    assert stored_image(alice).size == (256, 256)


def test_a_new_picture_replaces_the_old_one_whose_file_goes_after_the_commit(
    alice_client, alice, media, django_capture_on_commit_callbacks
):
    post_avatar(alice_client, image_bytes())
    alice.refresh_from_db()
    first, first_url = alice.avatar, alice.avatar_url
    with django_capture_on_commit_callbacks(execute=True):
        assert post_avatar(alice_client, image_bytes(color=(0, 0, 200))).status_code == 302
    alice.refresh_from_db()
    assert alice.avatar != first and alice.avatar_url != first_url  # a new version in the URL
    assert media() == [alice.avatar]


def test_removing_the_picture_deletes_its_file_and_shows_the_initial_again(
    alice_client, alice, media, django_capture_on_commit_callbacks
):
    post_avatar(alice_client, image_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/accounts/settings/avatar/", {"action": "remove"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.avatar == "" and alice.avatar_url is None and media() == []
    page = alice_client.get("/accounts/settings/").content.decode()
    assert "Remove picture" not in page and f'data-user-avatar="{alice.pk}">A</span>' in page


def test_the_form_works_as_a_plain_multipart_form(alice_client):
    page = alice_client.get("/accounts/settings/").content.decode()
    assert 'action="/accounts/settings/avatar/" enctype="multipart/form-data"' in page
    assert 'type="file" name="avatar"' in page


# Refusals: shown on the form, nothing stored -----------------------------------------------------


def refused(response, alice, media, status: int, words: str) -> None:
    assert response.status_code == status
    page = response.content.decode()
    assert 'class="error" role="alert"' in page and words in page
    alice.refresh_from_db()
    assert alice.avatar == "" and media() == []


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("picture.svg", SVG, "image/svg+xml"), ("picture.png", HTML, "image/png"), ("cv.pdf", PDF, "application/pdf")],
)
def test_what_is_not_one_of_the_four_images_is_refused(alice_client, alice, media, name, content, content_type):
    response = post_avatar(alice_client, content, name, content_type)
    refused(response, alice, media, 400, "Choose a PNG, JPEG, GIF or WebP picture.")


def test_a_picture_over_the_size_limit_is_refused(alice_client, alice, media, settings):
    settings.AVATAR_MAX_BYTES = 2000
    response = post_avatar(alice_client, image_bytes(size=(40, 40)) + b"\0" * 3000)
    refused(response, alice, media, 413, "That picture is too large")


def test_a_body_over_the_limit_is_refused_before_it_is_read(alice_client, alice, media, settings):
    settings.AVATAR_MAX_BYTES = 2000
    response = post_avatar(alice_client, image_bytes(size=(40, 40)) + b"\0" * 200_000)
    assert response.status_code == 413
    alice.refresh_from_db()
    assert alice.avatar == "" and media() == []
    # The way back from that page leads to the settings page.
    assert alice_client.get("/accounts/settings/avatar/")["Location"] == "/accounts/settings/"


def test_a_decompression_bomb_is_refused_before_decoding(alice_client, alice, media, settings):
    settings.ATTACHMENT_MAX_PIXELS = 1_000_000
    response = post_avatar(alice_client, image_bytes(size=(2000, 1000)))
    refused(response, alice, media, 413, "megapixels")


def test_posting_without_a_file_asks_for_one(alice_client, alice, media):
    refused(alice_client.post("/accounts/settings/avatar/", {}), alice, media, 400, "Choose a picture to upload.")


def test_anonymous_cannot_upload(client, alice, media):
    response = post_avatar(client, image_bytes())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert media() == []


# Serving ---------------------------------------------------------------------------------------


def test_logged_in_users_get_the_picture_with_the_file_headers(alice_client, alice, login, bob):
    post_avatar(alice_client, image_bytes())
    alice.refresh_from_db()
    url = alice.avatar_url
    assert url.startswith("/people/alice/avatar/?v=")
    response = login(bob).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(response.content)).size == (256, 256)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Cache-Control"] == "private, max-age=604800"
    # Another version than the current one (an old page): the current picture, not to be kept.
    old = login(bob).get("/people/alice/avatar/?v=old")
    assert old.status_code == 200 and old["Cache-Control"] == "private, no-cache"


def test_anonymous_visitors_do_not_get_pictures(alice_client, alice, login):
    post_avatar(alice_client, image_bytes())
    alice.refresh_from_db()
    response = login(None).get(alice.avatar_url)
    assert response.status_code == 401 and response["X-Content-Type-Options"] == "nosniff"


def test_no_picture_a_deactivated_user_and_nobody_are_the_same_404(alice_client, alice, bob, login):
    post_avatar(alice_client, image_bytes())
    alice.refresh_from_db()
    viewer = login(bob)
    assert viewer.get("/people/bob/avatar/").status_code == 404  # has none
    assert viewer.get("/people/nobody/avatar/").status_code == 404
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert viewer.get(alice.avatar_url).status_code == 404


# Shown wherever the person is ----------------------------------------------------------------


def test_the_picture_shows_on_messages_lists_profile_and_header(alice_client, alice, bob, login):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    conversation = group.conversations.first()
    messaging_services.message_send(actor=alice, conversation_id=conversation.pk, body="hello")
    direct, _created = messaging_services.direct_open(actor=bob, username="alice")
    post_avatar(alice_client, image_bytes())
    alice.refresh_from_db()
    img = f'src="{alice.avatar_url}" alt="" data-user-avatar="{alice.pk}"'
    viewer = login(bob)
    for path in (
        f"/chats/{conversation.pk}/",  # her message
        f"/chats/{direct.pk}/",  # the direct conversation's header and the sidebar's direct row
        f"/groups/{group.pk}/",  # the member list
        "/people/",
        "/people/alice/",
    ):
        assert img in viewer.get(path).content.decode(), path
    direct_page = viewer.get(f"/chats/{direct.pk}/").content.decode()
    assert direct_page.count(img) >= 2
    assert img in alice_client.get("/accounts/settings/").content.decode()  # her own header
    history = viewer.get(f"/chats/{conversation.pk}/messages/").json()["messages"]
    assert history[-1]["author"]["avatar_url"] == alice.avatar_url
    people = viewer.get("/people/search/", {"q": "alice"}).json()["people"]
    assert people == [{"id": alice.pk, "username": "alice", "display_name": "Alice A.", "avatar_url": alice.avatar_url}]


def test_without_a_picture_the_initial_shows_and_avatar_url_is_null(alice, bob, login):
    group = group_services.group_create(actor=alice, name="Team", member_usernames=["bob"])
    conversation = group.conversations.first()
    messaging_services.message_send(actor=alice, conversation_id=conversation.pk, body="hello")
    viewer = login(bob)
    page = viewer.get(f"/chats/{conversation.pk}/").content.decode()
    assert f'data-user-avatar="{alice.pk}">A</span>' in page and "/people/alice/avatar/" not in page
    assert viewer.get(f"/chats/{conversation.pk}/messages/").json()["messages"][-1]["author"]["avatar_url"] is None


# The account's data ------------------------------------------------------------------------------


def test_the_export_lists_the_picture(alice_client, alice, settings):
    post_avatar(alice_client, image_bytes())
    alice.refresh_from_db()
    response = alice_client.get("/accounts/settings/export/")
    profile = json.loads(b"".join(response.streaming_content))["profile"]
    size = storages["attachments"].size(alice.avatar)
    assert profile["avatar"] == {"url": settings.SITE_URL + alice.avatar_url, "type": "image/webp", "size": size}


def test_the_export_without_a_picture_says_null(alice_client):
    response = alice_client.get("/accounts/settings/export/")
    assert json.loads(b"".join(response.streaming_content))["profile"]["avatar"] is None


def test_deleting_the_account_deletes_the_picture(alice_client, alice, media, django_capture_on_commit_callbacks):
    post_avatar(alice_client, image_bytes())
    assert len(media()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post("/accounts/settings/delete/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not User.objects.filter(pk=alice.pk).exists() and media() == []
