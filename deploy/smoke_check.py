"""After a deploy: is the site up end to end, through the proxy? (docs/deploy.md)

    .venv/bin/python deploy/smoke_check.py https://chat.example.com --username USER --password-env CHECK_PASSWORD

Checks, in order, and exits non-zero at the first failure:
1. /healthz answers 200 with the database and the channel layer "ok";
2. the login page renders and its stylesheet (hashed name) is served;
3. an anonymous WebSocket to /ws/ is refused by the app (so the upgrade reached it);
4. with --username, logging in through the form works and the socket then says `hello`;
5. with --send-to ID as well, a message sent on one socket reaches a second socket of the
   same user (opened after it, so a least-connections balancer puts it on another process).
   This writes a real message into that conversation: use a conversation kept for checks.

Uses the standard library and `websockets` (requirements.txt). The password is
read from an environment variable, never from the command line (`ps` shows that).
"""

import argparse
import asyncio
import http.cookiejar
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from email.message import Message

import websockets


def fail(step: str, detail: str) -> None:
    print(f"FAIL {step}: {detail}")
    sys.exit(1)


def ok(step: str, detail: str = "") -> None:
    print(f"ok   {step}{': ' + detail if detail else ''}")


class Site:
    def __init__(self, base: str, *, insecure: bool) -> None:
        if not base.startswith(("http://", "https://")):
            fail("arguments", f"the site must be an http:// or https:// URL, not {base!r}")
        self.base = base.rstrip("/")
        self.tls = ssl.create_default_context()
        if insecure:  # a self-signed certificate on a test machine
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=self.tls), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, Message, bytes]:
        """Status, headers (looked up in any letter case: the server sends lower-case names) and body."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        # The scheme was checked in __init__: http(s) only.
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})  # noqa: S310
        if body is not None:
            request.add_header("Origin", self.base)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    @property
    def ws_url(self) -> str:
        return re.sub(r"^http", "ws", self.base) + "/ws/"


def connect(site: Site, cookie_header: str | None):
    headers = {"Cookie": cookie_header} if cookie_header else {}
    tls = site.tls if site.ws_url.startswith("wss") else None
    return websockets.connect(site.ws_url, origin=site.base, additional_headers=headers, ssl=tls, open_timeout=10)


async def next_frame(socket, kind: str) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
        if frame.get("type") in (kind, "error"):
            return frame


async def socket_first_frame(site: Site, cookie_header: str | None) -> dict | int:
    """The first frame the server sends, or the HTTP status that refused the upgrade."""
    try:
        async with connect(site, cookie_header) as socket:
            return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


async def send_across(site: Site, cookie_header: str, conversation_id: int) -> tuple[dict, dict]:
    """Send on one socket; return its `message.ack` and what a second socket of the same user got."""
    async with connect(site, cookie_header) as sender, connect(site, cookie_header) as receiver:
        await next_frame(sender, "hello")
        await next_frame(receiver, "hello")
        body = f"smoke check {time.strftime('%Y-%m-%d %H:%M:%S')}"
        frame = {"type": "message.send", "conversation": conversation_id, "body": body, "client_id": uuid.uuid4().hex}
        await sender.send(json.dumps(frame))
        return await next_frame(sender, "message.ack"), await next_frame(receiver, "message.new")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="The site as users reach it, e.g. https://chat.example.com")
    parser.add_argument("--username", help="An account to log in with (step 4).")
    parser.add_argument("--password-env", default="CHECK_PASSWORD", help="Variable holding its password.")
    parser.add_argument("--send-to", type=int, metavar="ID", help="Also send a message into this conversation.")
    parser.add_argument("--insecure", action="store_true", help="Accept a self-signed certificate.")
    args = parser.parse_args()
    site = Site(args.base, insecure=args.insecure)

    status, _, body = site.request("/healthz")
    health = json.loads(body) if status == 200 else {}
    if status != 200 or (health.get("database"), health.get("channel_layer")) != ("ok", "ok"):
        fail("healthz", f"{status} {body[:200]!r}")
    ok("healthz", body.decode())

    status, _, body = site.request("/accounts/login/")
    stylesheet = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
    if status != 200 or not stylesheet:
        fail("login page", f"{status}, hashed stylesheet link found: {bool(stylesheet)}")
    status, headers, _ = site.request(stylesheet.group(1).decode())
    if status != 200 or "immutable" not in headers.get("Cache-Control", ""):
        fail("static file", f"{status} Cache-Control={headers.get('Cache-Control')!r}")
    ok("login page and static file", stylesheet.group(1).decode())

    refused = asyncio.run(socket_first_frame(site, None))
    if refused != 403:
        fail("anonymous socket", f"expected the app to refuse it with 403, got {refused!r}")
    ok("anonymous socket refused by the app", "403")

    if not args.username:
        return
    password = os.environ.get(args.password_env)
    if not password:
        fail("login", f"set {args.password_env} to the password of {args.username}")
    status, _, _ = site.request(
        "/accounts/login/",
        {"username": args.username, "password": password, "csrfmiddlewaretoken": site.cookie("csrftoken") or ""},
    )
    session = site.cookie("sessionid")
    if not session:
        fail("login", f"no session after logging in as {args.username} (status {status})")
    ok("login", args.username)
    frame = asyncio.run(socket_first_frame(site, f"sessionid={session}"))
    if not isinstance(frame, dict) or frame.get("type") != "hello":
        fail("socket", f"expected a hello frame, got {frame!r}")
    ok("socket says hello", f"{len(frame.get('conversations', []))} conversations")

    if args.send_to is None:
        return
    ack, delivered = asyncio.run(send_across(site, f"sessionid={session}", args.send_to))
    if ack.get("type") != "message.ack" or delivered.get("type") != "message.new":
        fail("message across sockets", f"ack {ack!r}, second socket {delivered!r}")
    if delivered["message"]["seq"] != ack["message"]["seq"]:
        fail("message across sockets", f"ack seq {ack['message']['seq']}, delivered {delivered['message']['seq']}")
    ok("message across sockets", f"seq {ack['message']['seq']} in conversation {args.send_to}")


if __name__ == "__main__":
    main()
