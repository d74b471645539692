"""message.send with `attachments`: the uploaded files go out with the message; bad lists are refused."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messaging import attachments
from messaging.models import Attachment, Message
from tests.realtime.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
        },
    }


def upload(user, conversation_id, name="notes.txt") -> str:
    file = SimpleUploadedFile(name, b"hello\n", content_type="text/plain")
    return attachments.attachment_upload(actor=user, conversation_id=conversation_id, upload=file).pk


async def test_a_message_of_files_only_reaches_every_member_with_its_attachments(connect, team):
    alice, bob = await connect(team.alice), await connect(team.bob)
    attachment_id = await call(upload)(team.alice, team.general.pk)
    client_id = str(uuid.uuid4())
    await alice.send(
        {
            "type": "message.send",
            "conversation": team.general.pk,
            "client_id": client_id,
            "attachments": [attachment_id],
        }
    )
    ack = await alice.expect("message.ack")
    assert ack["message"]["body"] == ""
    (file,) = ack["message"]["attachments"]
    assert file["id"] == attachment_id and file["name"] == "notes.txt" and file["url"] == f"/files/{attachment_id}/"
    frame, _ = await bob.receive_type("message.new")
    assert frame["message"]["attachments"] == ack["message"]["attachments"]


@pytest.mark.parametrize(
    "value",
    ["abc", [1, 2], ["x" * 65], [f"id{n}" for n in range(11)], ["not-an-upload"]],
)
async def test_bad_attachment_lists_are_refused_and_nothing_is_stored(connect, team, value):
    alice = await connect(team.alice)
    client_id = str(uuid.uuid4())
    await alice.send(
        {
            "type": "message.send",
            "conversation": team.general.pk,
            "body": "x",
            "client_id": client_id,
            "attachments": value,
        }
    )
    error = await alice.expect("error")
    assert error["code"] == "invalid"
    assert await call(Message.objects.count)() == 0


async def test_someone_elses_upload_cannot_be_sent(connect, team):
    bob = await connect(team.bob)
    attachment_id = await call(upload)(team.alice, team.general.pk)
    await bob.send(
        {
            "type": "message.send",
            "conversation": team.general.pk,
            "body": "mine now",
            "client_id": str(uuid.uuid4()),
            "attachments": [attachment_id],
        }
    )
    assert (await bob.expect("error"))["code"] == "invalid"
    assert await call(Message.objects.count)() == 0
    assert await call(Attachment.objects.filter(message__isnull=True).count)() == 1
