"""Fixtures of the messaging tests: a group with one user in each role, and an outsider.

Everything is built through the real services; clients are logged in with force_login.
"""

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import pytest

from accounts.models import User
from groups import services as group_services
from groups.models import Group
from messaging.models import Conversation
from messaging.selectors import default_conversation


@dataclass
class Team:
    group: Group
    general: Conversation
    owner: User  # olivia
    admin: User  # adam
    member: User  # mia
    other_member: User  # max
    outsider: User  # nora: logged in, not in the group


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are created through the real service; a slow hash only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(make_user) -> Team:
    users = {name: make_user(name, display_name=name.title()) for name in ("olivia", "adam", "mia", "max", "nora")}
    group = group_services.group_create(actor=users["olivia"], name="Team", member_usernames=["adam", "mia", "max"])
    group_services.member_set_role(actor=users["olivia"], group_id=group.pk, username="adam", role="admin")
    return Team(
        group=group,
        general=default_conversation(group),
        owner=users["olivia"],
        admin=users["adam"],
        member=users["mia"],
        other_member=users["max"],
        outsider=users["nora"],
    )


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
