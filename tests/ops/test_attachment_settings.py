"""The attachments storage and serving mode as settings.py builds them from the environment."""

import json
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.files.storage import storages
store = storages["attachments"]
print(json.dumps({"class": type(store).__name__, "serve": settings.FILES_SERVE,
                  "endpoint": getattr(store, "endpoint_url", None), "bucket": getattr(store, "bucket_name", None),
                  "location": getattr(store, "location", None)}))
"""


def probe(**env) -> dict:
    environment = {"DJANGO_SETTINGS_MODULE": "chatsite.settings", "SECRET_KEY": "x", "PATH": "/usr/bin:/bin", **env}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_disk_by_default_streamed_by_the_app(tmp_path):
    found = probe(MEDIA_ROOT=str(tmp_path))
    assert found["class"] == "FileSystemStorage" and found["location"] == str(tmp_path)
    assert found["serve"] == "app"
    assert probe(MEDIA_ROOT=str(tmp_path), FILES_SERVE="nginx")["serve"] == "nginx"


def test_s3_bucket_switches_to_the_object_store_and_presigned_redirects():
    found = probe(S3_BUCKET="files", S3_ENDPOINT_URL="http://127.0.0.1:9000")
    assert found == {
        "class": "S3Storage",
        "serve": "redirect",
        "endpoint": "http://127.0.0.1:9000",
        "bucket": "files",
        "location": "",
    }


def test_a_redirect_without_a_bucket_is_refused_at_start():
    environment = {"DJANGO_SETTINGS_MODULE": "chatsite.settings", "SECRET_KEY": "x", "FILES_SERVE": "redirect"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode != 0 and "FILES_SERVE" in result.stderr
