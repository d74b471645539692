"""The chat template filters: message bodies are escaped and links are safe."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone
from django.utils.safestring import mark_safe

from messaging.templatetags.chat import chat_time, initial, linkify


def render(body) -> str:
    return Template("{% load chat %}{{ body|linkify }}").render(Context({"body": body}))


def test_markup_is_escaped():
    assert render("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert render("a & b \"q\" 'x'") == "a &amp; b &quot;q&quot; &#x27;x&#x27;"


def test_text_marked_safe_elsewhere_is_still_escaped():
    assert render(mark_safe("<b>bold</b>")) == "&lt;b&gt;bold&lt;/b&gt;"


def test_urls_become_links_that_cannot_reach_back():
    assert render("go to https://example.com/a?x=1&y=2.") == (
        'go to <a href="https://example.com/a?x=1&amp;y=2" rel="noopener nofollow" target="_blank">'
        "https://example.com/a?x=1&amp;y=2</a>."
    )
    assert 'href="http://www.example.org"' in render("www.example.org")


def test_attribute_injection_through_a_url_is_impossible():
    html = render('http://example.com/"onmouseover="alert(1)')
    assert '"onmouseover' not in html and "&quot;onmouseover" in html


def test_script_urls_are_not_links():
    html = render("javascript:alert(1) data:text/html,<b>x</b>")
    assert "<a " not in html and "&lt;b&gt;" in html


def test_line_breaks_are_kept():
    assert render("one\ntwo\n\nthree") == "one\ntwo\n\nthree"


def test_long_urls_are_shortened_in_the_text_only():
    url = "https://example.com/" + "a" * 100
    html = render(url)
    assert f'href="{url}"' in html and ">https://example.com/aaaa" in html and "…</a>" in html


def test_empty_and_none():
    assert linkify(None) == "" and linkify("") == ""


@pytest.mark.parametrize(("delta", "pattern"), [(timedelta(0), "%H:%M"), (timedelta(days=400), "%b %-d %Y, %H:%M")])
def test_chat_time(delta, pattern):
    moment = timezone.localtime() - delta
    assert chat_time(moment) == moment.strftime(pattern)
    assert chat_time(None) == ""


def test_initial():
    assert initial("alice") == "A" and initial("") == "?" and initial("  ") == "?"


LINK_TEXTS = [
    "",
    "plain words only",
    "end of a sentence. Next one: here",
    "see https://example.com/a?x=1&y=2. and (www.example.org), or [http://x.org/p]!",
    "mail me at someone@example.com; or <me@example.net>",
    'quotes "https://example.com/q" and \'http://example.com/s\' and http://example.com/"onmouseover=x',
    "javascript:alert(1) data:text/html,<b>x</b> ftp://example.com",
    "long https://example.com/" + "a" * 120 + " tail",
    "tabs\tand\nnew lines\r\nwith example.com/path and a.b.c",
    "unicode: café.com, https://bücher.example/ü?q=ä, \uff20full.width",
    "&amp; &lt;already&gt; escaped? http://example.com/?a=1&amp;b=2",
    "...:::@@@ . : @",
    "WWW.EXAMPLE.ORG and Example.COM/Path, HTTPS://EXAMPLE.NET, a.b.c, x.com. foo.community bar.org.uk",
    "(a.b) a(b.) &amp;www.; www.; x.com&amp;; mail@; @x; a@b.c; <a@b.org>; user@example.com.",
    "trailing punctuation https://example.com/x)... and (https://example.com/y)",
]


@pytest.mark.parametrize("text", LINK_TEXTS)
def test_linkify_matches_djangos_urlizer(text):
    """The word-skipping fast path gives exactly what the urlizer gives for the whole text."""
    from messaging.markup import _linker

    expected = _linker(text, trim_url_limit=60, nofollow=False, autoescape=True)
    assert linkify(text) == expected


def test_linkify_matches_djangos_urlizer_on_random_text():
    """Random text built from the pieces the urlizer reacts to: separators, punctuation, schemes,
    domains, addresses and entities."""
    import random

    from messaging.markup import _linker

    pieces = [" ", "\n", "\t", "<", ">", '"', "'", ".", ",", ":", ";", "!", "(", ")", "[", "]", "@", "&", "&amp;",
              "&lt;", "/", "?", "=", "#", "www.", "WWW.", ".com", ".ORG", ".net", ".co", "://", "http", "https",
              "mailto:", "example", "a", "ü", "x1", "-", "_", "%20", "javascript:"]  # fmt: skip
    generator = random.Random(20250131)
    for _ in range(3000):
        text = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 14)))
        assert linkify(text) == _linker(text, trim_url_limit=60, nofollow=False, autoescape=True), text
