"""Production settings: hashed, compressed static files served by the app itself, under the production server
(`python -m chatsite.serve`) with DEBUG=0."""

import gzip
import json
import re
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest
from django.test import Client

from tests.ops.conftest import production_env
from tests.servers import AppServer, database_url

BASE_DIR = Path(__file__).resolve().parents[2]
HASHED_CSS = re.compile(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"')


def test_collectstatic_writes_hashed_gzipped_files_and_pins_module_imports(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    app_js = manifest["js/app.js"]
    assert re.fullmatch(r"js/app\.[0-9a-f]{12}\.js", app_js)
    assert (collected / f"{app_js}.gz").exists()
    imports = re.findall(r'from "\./([^"]+)"', (collected / app_js).read_text())
    assert imports, "app.js imports its modules"
    for name in imports:  # every import names a hashed file that exists
        assert re.fullmatch(r"[a-z]+\.[0-9a-f]{12}\.js", name), name
        assert (collected / "js" / name).exists()


@pytest.mark.django_db
def test_app_serves_hashed_compressed_static_files(collected, settings):
    settings.DEBUG = False
    settings.STATIC_ROOT = collected
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "chatsite.storage.ChatStaticFilesStorage"}}
    client = Client()  # a new handler: WhiteNoise reads the new STATIC_ROOT
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    css_url = HASHED_CSS.search(page.content.decode()).group(1)

    response = client.get(css_url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
    body = gzip.decompress(b"".join(response.streaming_content))
    assert body == (collected / css_url.removeprefix("/static/")).read_bytes()
    assert client.get("/static/css/no-such-file.css").status_code == 404


def _get(url: str, **headers) -> tuple[int, Message, bytes]:
    """Status, headers (looked up in any letter case, as HTTP names are) and body."""
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a loopback http URL built here
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def app_server(collected, transactional_db, tmp_path):
    """One server process with DEBUG=0 and nothing in front of it."""
    env = production_env(STATIC_ROOT=collected, DATABASE_URL=database_url(), LOG_LEVEL="WARNING", PYTHONUNBUFFERED=1)
    server = AppServer(tmp_path / "server.log", env=env)
    try:
        server.start()
        yield server.url
    finally:
        server.close()


@pytest.mark.multiprocess
def test_the_server_alone_serves_pages_health_and_static_files(app_server, collected):
    status, _headers, body = _get(f"{app_server}/healthz")
    assert status == 200
    health = json.loads(body)
    assert (health["database"], health["channel_layer"]) == ("ok", "ok")
    assert health["queue"]["pending"] >= 0

    status, headers, body = _get(f"{app_server}/accounts/login/")
    assert status == 200
    assert "Content-Security-Policy" in headers
    css_url = HASHED_CSS.search(body.decode()).group(1)

    status, headers, body = _get(f"{app_server}{css_url}", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert gzip.decompress(body) == (collected / css_url.removeprefix("/static/")).read_bytes()

    app_js = json.loads((collected / "staticfiles.json").read_text())["paths"]["js/app.js"]
    status, headers, body = _get(f"{app_server}/static/{app_js}")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert body == (collected / app_js).read_bytes()

    status, _headers, _body = _get(f"{app_server}/static/js/no-such-file.js")
    assert status == 404
