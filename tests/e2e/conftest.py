"""Browser tests: Debian's Chromium driven by Playwright, against a real server process.

The app runs in a subprocess (`python -m chatsite.serve`, as in production) on a free port,
on the test database of this run (transactional tests, so its rows are committed
and visible to that process), with DEBUG=1 so static files come from the source
tree through whitenoise. Every subprocess is ended by its fixture's finalizer.
"""

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import PASSWORD
from tests.servers import AppServer, server_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BASE_DIR = Path(settings.BASE_DIR)
TIMEOUT_MS = 15_000  # Playwright waits
# What axe-core checks: WCAG 2.0 and 2.1, levels A and AA (the site's target), and axe's best
# practices, which hold the landmark and heading rules (one main, one h1, no skipped levels).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _browser_unavailable() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module.

    Playwright's sync API marks an event loop as running in this thread for as long
    as it is started, so the ORM calls the tests make between browser steps need
    DJANGO_ALLOW_ASYNC_UNSAFE. Both end with the module: the rest of the suite runs
    with no loop and Django's async-safety checks on.
    """
    reason = _browser_unavailable()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def server(browser, transactional_db, tmp_path) -> Iterator[AppServer]:
    """The app in a server subprocess on the committed test database, storing uploads in a folder of this test."""
    server = AppServer(tmp_path / "server.log", env=server_env(DEBUG=1, MEDIA_ROOT=tmp_path / "media"))
    server.start()
    yield server
    server.close()
    print(f"--- server log ---\n{server.log_tail()}")


@pytest.fixture
def new_context(browser):
    """Browser contexts (separate cookie jars: separate users), closed after the test."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


def login(context, server: AppServer, username: str, next_path: str = "/chats/"):
    """Log in through the real login form; returns the page, left on `next_path`."""
    page = context.new_page()
    page.on("console", lambda msg: print(f"[{username} console.{msg.type}] {msg.text}"))
    page.on("pageerror", lambda error: print(f"[{username} pageerror] {error}"))
    page.goto(f"{server.url}/accounts/login/?next={quote(next_path)}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server.url}{next_path}")
    return page


def connected(page) -> None:
    """Wait until the page's socket is open (static/js/app.js marks <html data-socket>)."""
    page.wait_for_selector("html[data-socket=connected]")


def compose(page, text: str) -> None:
    """Type into the composer and press Enter (the socket path: no navigation)."""
    page.fill("#composer textarea", text)
    page.press("#composer textarea", "Enter")


def message(page, seq: int):
    """The message item with that seq on the page."""
    return page.locator(f"#messages li.message[data-seq='{seq}']")


class _QuietStaticHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def static_server(browser) -> Iterator[str]:
    """The static/ folder over plain HTTP, for tests of a single module in the browser."""
    handler = functools.partial(_QuietStaticHandler, directory=str(BASE_DIR / "static"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def accessibility_violations(page) -> list[dict]:
    """axe-core's violations (WCAG 2.1 A/AA, best practices) on the page as it is now (dialogs, viewport, theme)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, options=options).response["violations"]


def describe_violations(violations: list[dict]) -> str:
    """One line per rule (id, impact, what it asks), then the selectors of the elements that break it."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}  {summary}")
    return "\n".join(lines)


def assert_accessible(page, what: str = "") -> None:
    """Fail with axe-core's violations (rule, impact, target selectors) if there are any."""
    violations = accessibility_violations(page)
    where = what or page.url
    assert not violations, f"axe-core found violations on {where}:\n{describe_violations(violations)}"
