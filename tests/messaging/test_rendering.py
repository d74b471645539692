"""Message bodies rendered once on the server (messaging.rendering): the table of what each
input becomes, hostile inputs always safe and in bounded time, and the stored `html`."""

import re
import time
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messaging import rendering, services
from messaging.models import Message
from messaging.rendering import render, stylesheet

A = 'target="_blank" rel="noopener nofollow ugc"'

TABLE = [
    ("plain words", "<p>plain words</p>"),
    ("**bold** *italic* _also_ ~~strike~~ `code`",
     "<p><strong>bold</strong> <em>italic</em> <em>also</em> <s>strike</s> <code>code</code></p>"),
    ("one\ntwo\n\nthree", "<p>one<br>\ntwo</p>\n<p>three</p>"),
    ("> quoted\n> more", "<blockquote>\n<p>quoted<br>\nmore</p>\n</blockquote>"),
    ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
    ("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>'),
    ("[docs](https://example.com/d)", f'<p><a href="https://example.com/d" {A}>docs</a></p>'),
    ("see https://example.com/x?a=1&b=2.",
     f'<p>see <a href="https://example.com/x?a=1&amp;b=2" {A}>https://example.com/x?a=1&amp;b=2</a>.</p>'),
    ("www.example.org", f'<p><a href="http://www.example.org" {A}>www.example.org</a></p>'),
    ("[mail](mailto:a@example.com)", f'<p><a href="mailto:a@example.com" {A}>mail</a></p>'),
    ("write to a@example.com", f'<p>write to <a href="mailto:a@example.com" {A}>a@example.com</a></p>'),
    ("www.example.fr/page", f'<p><a href="http://www.example.fr/page" {A}>www.example.fr/page</a></p>'),
    # A bare host name is not a link: files are named like hosts (.py is Paraguay's, .md Moldova's).
    ("run manage.py, see README.md or example.com", "<p>run manage.py, see README.md or example.com</p>"),
    # A link's title is not kept: links carry `href` only (and the rel and target every link gets).
    ('[docs](https://example.com/d "Read me")', f'<p><a href="https://example.com/d" {A}>docs</a></p>'),
    ("```\nplain <b>code</b>\n```", "<pre><code>plain &lt;b&gt;code&lt;/b&gt;\n</code></pre>"),
    ("```python\nx = 1\n```",
     '<pre class="highlight"><code><span class="n">x</span> <span class="o">=</span> <span class="mi">1</span>\n'
     "</code></pre>"),
    ("```nosuchlanguage\nx\n```", "<pre><code>x\n</code></pre>"),
    # Not in the subset: shown as text.
    ("# not a heading", "<p># not a heading</p>"),
    ("---", "<p>---</p>"),
    ("![alt](https://example.com/i.png)", f'<p>!<a href="https://example.com/i.png" {A}>alt</a></p>'),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>"),
    # Hostile: never a script, a handler, or a link anywhere but http, https and mailto.
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ('<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror="alert(1)"&gt;</p>'),
    ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
    ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>"),
    ("[x](java\tscript:alert(1))", "<p>[x](java\tscript:alert(1))</p>"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>"),
    ("[x](/relative) [y](//evil.example)", "<p>[x](/relative) [y](//evil.example)</p>"),
    ("javascript:alert(1)", "<p>javascript:alert(1)</p>"),
    ('[x](https://e.com/"onmouseover="alert(1))',
     f'<p><a href="https://e.com/%22onmouseover=%22alert(1)" {A}>x</a></p>'),
    ('```js" onclick="alert(1)\nx\n```', "<pre><code>x\n</code></pre>"),
    ("```python\n</code></pre><script>alert(1)</script>\n```", None),  # checked by the safety walk
    ("`unclosed code", "<p>`unclosed code</p>"),
    ("```\nunclosed fence", "<pre><code>unclosed fence</code></pre>"),
    ("**unclosed bold", "<p>**unclosed bold</p>"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), TABLE)
def test_what_each_input_renders_to(body, expected):
    html = render(body)
    if expected is not None:
        assert html == expected
    assert_safe(html)


HOSTILE = {
    "emphasis bomb": "*" * 2000 + "a" + "_" * 1998,
    "nested emphasis": "*a **" * 700,
    "brackets": "[" * 2000 + "](" * 1000,
    "4,000-character line": "x" * 4000,
    "4,000 characters of words": "word " * 800,
    "deep quotes": ">" * 4000,
    "deep lists": "- " * 2000,
    "backticks": "`" * 4000,
    "fences": "```\n" * 1000,
    "many links": "http://a.example/ " * 220,
    "many mentions": "@alice " * 570,
    "entities": "&#x3C;script&#x3E;" * 200,
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_bodies_render_safely_in_bounded_time(body):
    assert len(body) <= 4000
    start = time.process_time()
    html = render(body, mentions={"alice": 1})
    assert time.process_time() - start < 0.5  # the worst measured is ~25 ms
    assert_safe(html)


ALLOWED = {"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"}
# docs/protocol.md: `href` on links (with the rel and target every link gets), `start` on numbered lists,
# classes on `span` and `pre`, `data-mention` on mentions; nothing else.
ATTRIBUTES = {"a": {"href", "rel", "target"}, "ol": {"start"}, "span": {"class", "data-mention"}, "pre": {"class"}}


class _Walk(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED:
            self.problems.append(f"tag {tag}")
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} on {tag}")
            if name == "href" and not re.match(r"^(https?|mailto):", value or "", re.IGNORECASE):
                self.problems.append(f"href {value}")
        if tag == "a" and ("rel", "noopener nofollow ugc") not in attrs:
            self.problems.append("link without rel")


def assert_safe(html: str) -> None:
    walk = _Walk()
    walk.feed(html)
    assert walk.problems == [], html


def test_mentions_only_of_the_names_given():
    html = render("@Alice and @bob. and a@alice.org and @nobody", mentions={"alice": 7, "bob": 8})
    assert html == (
        '<p><span class="mention" data-mention="7">@Alice</span> and '
        '<span class="mention" data-mention="8">@bob</span>. and '
        f'<a href="mailto:a@alice.org" {A}>a@alice.org</a> and @nobody</p>'
    )
    assert render("`@alice`", mentions={"alice": 7}) == "<p><code>@alice</code></p>"


def test_the_stylesheet_is_the_one_served():
    from pathlib import Path

    served = (Path(__file__).resolve().parents[2] / "static/css/highlight.css").read_text()
    assert stylesheet() in served


# --- Stored once: on send and edit; gone on delete -----------------------------------------------


def test_the_html_is_stored_with_the_message_and_follows_edits_and_deletes(cast):
    message, _ = services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body="**hi**")
    assert Message.objects.get(pk=message.pk).html == "<p><strong>hi</strong></p>"
    services.message_edit(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq, body="*there*")
    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.html) == ("*there*", "<p><em>there</em></p>")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=message.seq)
    stored = Message.objects.get(pk=message.pk)
    assert (stored.body, stored.html, stored.deleted) == ("", "", True)


def test_history_json_carries_body_and_html(cast, login):
    services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body="see <https://example.com>")
    data = login(cast.member).get(f"/chats/{cast.general.pk}/messages/").json()
    message = data["messages"][-1]
    assert message["body"] == "see <https://example.com>"
    assert message["html"] == f'<p>see <a href="https://example.com" {A}>https://example.com</a></p>'


def test_the_data_migration_renders_messages_stored_before_rendering(cast):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("messaging.migrations.0005_render_existing_messages")
    kept, _ = services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body="**old** <i>")
    gone, _ = services.message_send(actor=cast.owner, conversation_id=cast.general.pk, body="deleted")
    services.message_delete(actor=cast.owner, conversation_id=cast.general.pk, seq=gone.seq)
    Message.objects.update(html="")  # as stored before the html column existed
    migration.render_existing(apps, None)
    assert Message.objects.get(pk=kept.pk).html == "<p><strong>old</strong> &lt;i&gt;</p>"
    assert Message.objects.get(pk=gone.pk).html == ""


# Plain text skips the parser (rendering._PLAIN): the same HTML as the parser and the cleaner give.
_PLAIN_ALPHABET = st.sampled_from([*"aZ09 ,!?':éßÜ中文字жЖ٣ﬁ", "\u00aa", "\u00b2", "\u0915"])
_NEAR_PLAIN = st.sampled_from([*"aZ0 ,!?':.@/&<>\"*_~`#-+|\\[]()\t\n=%$", "\u00a0", "\u200b", "\u0301"])


@given(st.text(_PLAIN_ALPHABET | _NEAR_PLAIN, min_size=1, max_size=40))
@settings(max_examples=600, deadline=None)
def test_plain_text_renders_as_the_parser_would(body):
    assert render(body) == rendering._markdown(body, None)


@pytest.mark.parametrize(
    "body", ["ok", "Sounds good, I'll push it after lunch!", "3f9a1c2e:417:12:9384", "Ünïcode 中文"]
)
def test_plain_text_does_not_run_the_parser(body, monkeypatch):
    def parser_called(*args):
        raise AssertionError("the parser ran")

    monkeypatch.setattr(rendering._md, "render", parser_called)
    assert render(body) == f"<p>{body}</p>"
