"""Cookies, headers, redirects, the admin, and `check --deploy` with the production environment."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.accounts.helpers import login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "HTTPS": "1",
    "ALLOWED_HOSTS": "chat.example.com",
    "DATABASE_URL": "postgres://chat:secret@127.0.0.1:5432/chat",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def run_python(args: list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python in a fresh interpreter, so settings are read from exactly this environment."""
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "SECRET_KEY"}
    env.update(extra_env)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DJANGO_SETTINGS_MODULE"] = "chatsite.settings"
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_environment():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output and "?: (" not in output


def test_https_switch_makes_both_cookies_secure():
    code = (
        "import json; from django.conf import settings; print(json.dumps({k: getattr(settings, k) for k in "
        "['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'SESSION_COOKIE_SAMESITE', "
        "'CSRF_COOKIE_SAMESITE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS']}))"
    )
    on = json.loads(run_python(["-c", code], PRODUCTION_ENV).stdout)
    assert on == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
    }
    off = json.loads(run_python(["-c", code], {**PRODUCTION_ENV, "HTTPS": "0"}).stdout)
    assert off["SESSION_COOKIE_SECURE"] is False and off["CSRF_COOKIE_SECURE"] is False


def test_cookie_flags_over_plain_http(client, alice):
    page = client.get("/accounts/login/")
    csrf = page.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"
    assert not csrf["secure"]
    session = login(client, "alice").cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert not session["secure"]


def test_cookie_flags_in_https_mode(alice, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    page = client.get("/accounts/login/", secure=True)
    assert page.cookies["csrftoken"]["secure"] is True
    assert page.cookies["csrftoken"]["samesite"] == "Lax"
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True and session["httponly"] is True and session["samesite"] == "Lax"


def test_signup_session_cookie_is_httponly_lax_and_browser_session(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "gwen", "email": "gwen@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def assert_security_headers(response) -> None:
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/accounts/login/", 200),
        ("/accounts/signup/", 200),
        ("/", 302),
        ("/chats/", 302),
        ("/accounts/logout/", 405),
        ("/no-such-page/", 404),
    ],
)
def test_security_headers_on_every_response(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert_security_headers(response)


def test_security_headers_on_logged_in_pages_and_the_export(alice_client):
    for path in ("/accounts/settings/", "/chats/", "/accounts/settings/export/"):
        assert_security_headers(alice_client.get(path))


def test_account_pages_have_no_inline_script_or_style(alice_client):
    pages = [Client().get(p) for p in ("/accounts/login/", "/accounts/signup/")]
    pages.append(alice_client.get("/accounts/settings/"))
    for response in pages:
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, tag
        assert "<style" not in html
        assert not re.search(r"\sstyle=", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_home_redirects_to_login_or_chats(alice_client):
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    response = alice_client.get("/")
    assert response.status_code == 302 and response["Location"] == "/chats/"


def test_chats_needs_login(alice_client):
    response = Client().get("/chats/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    assert alice_client.get("/chats/").status_code == 200


def test_admin_lists_users_with_search_and_filters(client, make_user):
    admin = make_user("root", email="root@example.com")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    make_user("alice", email="alice@wonderland.example")
    make_user("bob", email="bob@builder.example")
    client.force_login(admin)

    page = client.get("/admin/accounts/user/")
    assert page.status_code == 200
    assert "alice" in page.content.decode() and "bob" in page.content.decode()

    by_name = client.get("/admin/accounts/user/", {"q": "ALI"})
    assert [u.username for u in by_name.context["cl"].result_list] == ["alice"]
    by_email = client.get("/admin/accounts/user/", {"q": "builder"})
    assert [u.username for u in by_email.context["cl"].result_list] == ["bob"]
    staff = client.get("/admin/accounts/user/", {"is_staff__exact": "1"})
    assert [u.username for u in staff.context["cl"].result_list] == ["root"]
    filters = {spec.title for spec in by_name.context["cl"].filter_specs}
    assert {"active", "staff status", "superuser status"} <= filters


def test_admin_is_closed_to_ordinary_users(alice_client):
    response = alice_client.get("/admin/accounts/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
