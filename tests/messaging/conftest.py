"""Fixtures of the messaging tests: `world` (users in every position, for the agreement tests) and
attachment storages (a folder, a real S3-compatible server).

The people are tests/conftest.py's `cast` (a group with one user in each role, and an outsider).
"""

import socket
import subprocess
import sys
import time
import uuid

import pytest

from accounts import services as account_services
from accounts.models import User
from groups import services as group_services
from messaging import services
from tests.conftest import send


@pytest.fixture
def world(cast, make_user):
    """Users in every position towards groups with topics and directs, messages read and unread, deleted
    ones, and ones of a deleted account, a deactivated one and a removed member: for the tests that
    hold two forms of a rule equal (access, the socket's SQL). (cast, the users to check)."""
    zed = make_user("zed")
    other_group = group_services.group_create(actor=zed, name="Elsewhere", member_usernames=["nora"])
    side = services.topic_create(actor=zed, group_id=other_group.pk, name="Side")
    plans = services.topic_create(actor=cast.owner, group_id=cast.group.pk, name="Plans")
    direct, _ = services.direct_open(actor=cast.member, username="nora")
    services.direct_open(actor=cast.admin, username="zed")
    leaving = make_user("leaving")
    services.direct_open(actor=leaving, username="mia")
    group_services.member_add(actor=cast.owner, group_id=cast.group.pk, username="leaving")
    sleeper = make_user("sleeper")
    group_services.member_add(actor=cast.owner, group_id=cast.group.pk, username="sleeper")
    services.direct_open(actor=sleeper, username="max")
    services.direct_open(actor=cast.other_member, username="olivia")

    for i, author in enumerate([cast.owner, cast.member, leaving, cast.admin, cast.member, leaving, cast.owner]):
        send(author, cast.general, f"general {i}")
    send(cast.owner, plans, "plans 1")
    send(cast.admin, plans, "plans 2")
    send(cast.member, direct, "hi nora")
    send(zed, side, "side")
    gone = send(cast.admin, cast.general, "to be deleted")
    services.message_delete(actor=cast.admin, conversation_id=cast.general.pk, seq=gone.seq)
    services.read_mark(actor=cast.member, conversation_id=cast.general.pk, seq=3)
    services.read_mark(actor=cast.admin, conversation_id=plans.pk, seq=2)
    services.read_mark(actor=cast.outsider, conversation_id=direct.pk, seq=1)
    account_services.user_delete(user=leaving)  # their messages stay, authorless
    account_services.user_deactivate(user=sleeper)
    group_services.member_remove(actor=cast.owner, group_id=cast.group.pk, username="max")
    users = [cast.owner, cast.admin, cast.member, cast.other_member, cast.outsider, zed]
    return cast, [User.objects.get(pk=u.pk) for u in users]


class FileStore:
    """The attachments storage a test runs on, and what it holds."""

    def __init__(self, kind: str, *, root=None, bucket=None, client=None):
        self.kind, self.root, self.bucket, self.client = kind, root, bucket, client

    def files(self) -> list[str]:
        if self.kind == "s3":
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        return sorted(str(p) for p in self.root.rglob("*") if p.is_file()) if self.root.exists() else []


@pytest.fixture(params=["filesystem", "s3"])
def media(request, settings, tmp_path):
    """Attachments on a fresh folder, then on a fresh bucket of a real S3-compatible server
    (moto's server mode, one process for the session): every test using it runs on both."""
    if request.param == "filesystem":
        settings.STORAGES = {
            **settings.STORAGES,
            "attachments": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "media"), "base_url": None},
            },
        }
        return FileStore("filesystem", root=tmp_path / "media")
    endpoint = request.getfixturevalue("s3_server")
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **S3_CREDENTIALS)
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "attachments": s3_storage(endpoint, bucket)}
    return FileStore("s3", bucket=bucket, client=client)


S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # moto accepts any


def s3_storage(endpoint: str, bucket: str) -> dict:
    """The attachments storage as settings.py builds it from S3_BUCKET and S3_ENDPOINT_URL."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": S3_CREDENTIALS["aws_access_key_id"],
            "secret_key": S3_CREDENTIALS["aws_secret_access_key"],
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
            "max_memory_size": 1024 * 1024,
            "signature_version": "s3v4",
            "addressing_style": "path",
        },
    }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's S3-compatible server in a subprocess on 127.0.0.1 (skipped without moto)."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (requirements-dev.txt)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's server did not start") from None
                time.sleep(0.1)  # polling for the port to open, not papering over a race
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
