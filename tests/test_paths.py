"""Paths are spelled once, in the routes: templates use {% url %}, scripts read them from data-
attributes (static/js/urls.js), Python reverses them (chatsite/paths.py)."""

import re
from pathlib import Path

import pytest
from django.template import engines
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_resolver, get_script_prefix, reverse, set_script_prefix

from chatsite.paths import PLACEHOLDER, SOCKET_PATH, path_filler, path_to, static_path

ROOT = Path(__file__).resolve().parents[1]
COMMENT_BLOCK = re.compile(r"{% comment %}.*?{% endcomment %}", re.DOTALL)


def _first_segments() -> set[str]:
    """The first path segment of every route ("chats", "groups", "ws", ...)."""
    segments = {SOCKET_PATH.strip("/")}
    for pattern in get_resolver().url_patterns:
        first = str(pattern.pattern).lstrip("^").split("/", 1)[0]
        if first:
            segments.add(first)
        for inner in getattr(pattern, "url_patterns", ()):
            first = str(inner.pattern).lstrip("^").split("/", 1)[0]
            if first and not first.startswith("<"):
                segments.add(first)
    return segments


def _hard_coded(paths: list[Path]) -> list[str]:
    segments = "|".join(sorted(re.escape(segment) for segment in _first_segments()))
    # A path of the site written out: a quote, backtick or "=" straight before "/<segment>".
    spelled = re.compile(rf"""[\"'`=(]/(?:{segments})(?:[/"'`?]|\b)""")
    found = []
    for path in paths:
        # Template comments may name a path: blank them, keeping the line numbers.
        text = COMMENT_BLOCK.sub(lambda match: "\n" * match.group().count("\n"), path.read_text())
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith(("//", "*", "{#")):
                continue  # comments may name a path
            if spelled.search(line):
                found.append(f"{path}:{number}: {line.strip()}")
    return found


def test_the_routes_give_the_segments_looked_for():
    assert {"chats", "groups", "people", "search", "accounts", "files", "dm", "ws"} <= _first_segments()


def test_no_script_spells_out_a_path_of_the_site():
    assert _hard_coded(sorted((ROOT / "static" / "js").rglob("*.js"))) == []


def test_no_template_spells_out_a_path_of_the_site():
    assert _hard_coded(sorted((ROOT / "templates").rglob("*.html"))) == []


def test_the_search_finds_a_path_written_out(tmp_path):
    script = tmp_path / "bad.js"
    script.write_text('fetch(`/chats/${id}/messages/`);\nlocation.assign("/dm/");\n// "/chats/" in a comment\n')
    assert len(_hard_coded([script])) == 2


@pytest.mark.parametrize(
    ("viewname", "args"),
    [
        ("messaging:conversation", [7]),
        ("messaging:message_edit", [7, 12]),
        ("messaging:reaction_toggle", [7, 12]),
        ("people:profile", ["bob"]),
    ],
)
def test_a_filled_path_is_the_reversed_one(viewname, args):
    assert path_filler(viewname, *args[:-1])(args[-1]) == reverse(viewname, args=args)


ROUTES = [
    ("home", []),
    ("messaging:list", []),
    ("messaging:conversation", [7]),
    ("messaging:conversation", [PLACEHOLDER]),
    ("messaging:conversation", [2**63 - 1]),
    ("messaging:message_edit", [7, 12]),
    ("messaging:message_edit", [PLACEHOLDER, PLACEHOLDER]),
    ("messaging:reaction_toggle", [7, 1234567890123]),
    ("messaging:topic_create", [3]),
    ("groups:detail", [3]),
    ("messaging:attachment_discard", [PLACEHOLDER]),
    ("people:profile", ["bob"]),
    ("people:profile", ["josé"]),  # quoted by reverse
    ("messaging:attachment", ["a b"]),
]


@pytest.mark.parametrize(("viewname", "args"), ROUTES)
def test_a_path_reversed_once_is_the_reversed_one(viewname, args):
    assert path_to(viewname, *args) == reverse(viewname, args=args)
    assert path_to(viewname, *args) == reverse(viewname, args=args)  # the second time from the cache


@pytest.mark.parametrize(("viewname", "args"), ROUTES)
def test_the_path_tag_writes_what_the_url_tag_writes(viewname, args):
    engine = engines["django"]
    spelled = " ".join(repr(arg) if isinstance(arg, str) else str(arg) for arg in args)
    url = engine.from_string(f"{{% url '{viewname}' {spelled} %}}").render({})
    path = engine.from_string(f"{{% load paths %}}{{% path '{viewname}' {spelled} %}}").render({})
    assert path == url


def test_a_path_reversed_once_follows_the_script_prefix():
    """A site served below a prefix (SCRIPT_NAME, FORCE_SCRIPT_NAME): the prefix is part of the cache's key."""
    before = path_to("messaging:conversation", 7)
    prefix = get_script_prefix()
    set_script_prefix("/chat-site/")
    try:
        assert path_to("messaging:conversation", 7) == reverse("messaging:conversation", args=[7])
        assert path_to("messaging:conversation", 7) == "/chat-site" + before
    finally:
        set_script_prefix(prefix)
    assert path_to("messaging:conversation", 7) == before


@pytest.mark.parametrize(
    ("viewname", "args"),
    [
        ("messaging:conversation", [-1]),
        ("messaging:conversation", [10**19]),  # 20 digits: more than an id has
        ("messaging:conversation", [True]),
        ("messaging:conversation", []),
        ("messaging:list", [7]),
        ("no-such-route", []),
    ],
)
def test_a_path_that_does_not_reverse_fails_as_reverse_does(viewname, args):
    with pytest.raises(NoReverseMatch):
        reverse(viewname, args=args)
    with pytest.raises(NoReverseMatch):
        path_to(viewname, *args)


@pytest.mark.parametrize("name", ["css/app.css", "js/app.js", "js/scripts_on.js", "a file?.css"])
def test_a_static_path_asked_once_is_what_static_gives(name):
    assert static_path(name) == static(name)
    assert static_path(name) == static(name)
    engine = engines["django"]
    tag = engine.from_string(f"{{% load paths %}}{{% static_path {name!r} %}}").render({})
    assert tag == engine.from_string(f"{{% load static %}}{{% static {name!r} %}}").render({})


def test_a_static_path_follows_a_new_storage(settings):
    before = static_path("css/app.css")
    settings.STATIC_URL = "/assets/"  # a new static files storage
    assert static_path("css/app.css") == static("css/app.css") == "/assets/css/app.css" != before


def test_scripts_get_every_path_from_the_page(alice_client):
    """The data- attributes static/js/urls.js reads are on every logged-in page, as templates."""
    body = alice_client.get(reverse("messaging:list")).content.decode()
    expected = {
        "data-chats-url": reverse("messaging:list"),
        "data-login-url": reverse("accounts:login"),
        "data-socket-url": "/" + SOCKET_PATH,
        "data-conversation-url-template": reverse("messaging:conversation", args=[PLACEHOLDER]),
        "data-message-edit-url-template": reverse("messaging:message_edit", args=[PLACEHOLDER] * 2),
        "data-message-delete-url-template": reverse("messaging:message_delete", args=[PLACEHOLDER] * 2),
        "data-reactions-url-template": reverse("messaging:reaction_toggle", args=[PLACEHOLDER] * 2),
        "data-attachment-discard-url-template": reverse("messaging:attachment_discard", args=[PLACEHOLDER]),
    }
    for attribute, value in expected.items():
        assert f'{attribute}="{value}"' in body
    used = set(re.findall(r'data\("(\w+)"\)', (ROOT / "static" / "js" / "urls.js").read_text()))
    as_attributes = {"data-" + re.sub(r"([A-Z])", r"-\1", key).lower() for key in used}
    assert as_attributes == set(expected)


def test_scripts_name_only_templates_that_exist():
    """Comments in the scripts point at the server's markup; a renamed template must not leave them behind."""
    named = set()
    for script in (ROOT / "static" / "js").rglob("*.js"):
        # A path (templates/messaging/conversation.html) or a partial's name (_message.html), not
        # `message.html`, the property.
        named |= set(re.findall(r"(?:\w+/)+\w+\.html\b|(?<![\w.])_\w+\.html\b", script.read_text()))
    assert named
    missing = [name for name in sorted(named) if not list((ROOT / "templates").rglob(name.rsplit("/", 1)[-1]))]
    assert missing == []
