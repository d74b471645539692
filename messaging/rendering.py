"""A message body's HTML: the one renderer, run once when a message is stored or edited.

Markdown subset (docs/protocol.md, "Message formatting"): bold, italic, strike,
inline code, fenced code blocks (highlighted by Pygments with CSS classes only),
block quotes, lists, links and bare URLs, line breaks kept. Raw HTML is text.
No images, headings, tables, rules or indented code blocks.

Two walls: markdown-it-py with HTML off and a link check that lets through only
http, https and mailto; then nh3 (an allow-list sanitizer) over its output, which
also sets every link's `rel` and `target`. Pages and frames insert the stored
HTML as it is, so nothing else in the project builds a message body.
"""

import html
import re
from functools import lru_cache

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

LINK_REL = "noopener nofollow ugc"
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
# A language name after a fence: letters, digits and a few signs, as Pygments names them.
_LANGUAGE = re.compile(r"^[A-Za-z0-9_+#.\-]{1,30}$")
# Usernames as accounts allow them (letters, digits, "_", "." and "-"); a trailing full stop
# ends the sentence, not the name.
MENTION = re.compile(r"@([A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*)")

_PYGMENTS_CLASSES = frozenset(c for c in STANDARD_TYPES.values() if c)
_formatter = HtmlFormatter(nowrap=True)


def _highlight(code: str, language: str, _attrs) -> str:
    """A fenced block's HTML: highlighted when the language is one Pygments knows, else ""
    (markdown-it then escapes it itself)."""
    language = (language or "").strip()
    if not _LANGUAGE.match(language):
        return ""
    try:
        lexer = get_lexer_by_name(language.lower())
    except ClassNotFound:
        return ""
    return f'<pre class="highlight"><code>{highlight(code, lexer, _formatter)}</code></pre>\n'


def _allowed_link(url: str) -> bool:
    """Only absolute http, https and mailto links: no javascript:, data:, relative or protocol-relative ones."""
    match = _SCHEME.match(url.strip())
    return bool(match) and match.group(1).lower() in LINK_SCHEMES


def _mention_rule(state: StateInline, silent: bool) -> bool:
    """`@name` of someone in `env["mentions"]` (lower-case username -> user id) becomes a mention."""
    mentions = state.env.get("mentions") if isinstance(state.env, dict) else None
    if not mentions or state.src[state.pos] != "@":
        return False
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "_.-@"):
        return False  # inside a word or an address: alice@example.com
    match = MENTION.match(state.src, state.pos)
    if match is None:
        return False
    name = match.group(1)
    target = mentions.get(name.lower())
    if target is None:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.content = name
        token.meta = {"id": target}
    state.pos = match.end()
    return True


def _render_mention(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    target = token.meta["id"]
    # The mention of everyone is "all"; a user's carries their id, for the reader's own highlight.
    data = "all" if target == "all" else str(int(target))
    return f'<span class="mention" data-mention="{data}">@{html.escape(token.content)}</span>'


class _Linkify(LinkifyIt):
    """Bare URLs that say they are links: with a scheme (`https://…`), starting `www.`, or an
    address. A bare host name stays text: files are named like hosts (`manage.py` is Paraguay's
    domain, `README.md` Moldova's), and linkify-it's fuzzy links would send readers there."""

    def match(self, text: str):
        links = [link for link in super().match(text) or [] if link.schema or link.text.lower().startswith("www.")]
        return links or None


def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": True, "breaks": True, "typographer": False, "highlight": _highlight},
    )
    md.enable(["linkify", "strikethrough"])
    md.disable(["heading", "lheading", "hr", "code", "reference", "image", "html_block", "html_inline"])
    md.validateLink = _allowed_link
    md.linkify = _Linkify()
    md.inline.ruler.before("linkify", "mention", _mention_rule)
    md.add_render_rule("mention", _render_mention)
    return md


_md = _parser()

# The second wall: whatever the parser gives, only these tags, attributes and classes
# come out, links only to http/https/mailto, each with LINK_REL and target="_blank".
_cleaner = nh3.Cleaner(
    tags={"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"},
    # "*": no attribute on every tag (ammonia's default lets `title` and `lang` through on all of them).
    attributes={"a": {"href"}, "ol": {"start"}, "span": {"data-mention"}, "*": set()},
    allowed_classes={"span": _PYGMENTS_CLASSES | {"mention"}, "pre": {"highlight"}},
    url_schemes=set(LINK_SCHEMES),
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)


# A body of one line of letters, digits, spaces and a few signs that mean nothing to Markdown, linkify
# or HTML: its HTML is the text in a paragraph, as the parser and the cleaner would give it (a test holds
# the two equal). No "." ("1." starts a list, "www." a link), "@", "/", "&", "<", quotes, brackets, "*", "_", "~",
# "`", "#", "-", "+", "|", "\\", tabs or newlines; not starting or ending with a space.
_PLAIN = re.compile(r"[^\W_](?:[^\W_]|[ ,!?':])*(?<! )|[^\W_]")


def render(body: str, *, mentions: dict[str, int | str] | None = None) -> str:
    """The HTML of a message body. `mentions`: lower-case username (or "all") -> user id (or "all")
    of those this message may mention; any other `@name` stays text."""
    if not body:
        return ""
    if _PLAIN.fullmatch(body):
        return f"<p>{body}</p>"  # plain text skips the parser: most of a short message's CPU (issue 17)
    return _markdown(body, mentions)


def _markdown(body: str, mentions: dict[str, int | str] | None) -> str:
    env = {"mentions": mentions or {}}
    return _cleaner.clean(_md.render(body, env)).strip()


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The Pygments rules for `pre.highlight` (static/css/highlight.css is this, checked by a test)."""
    return "\n".join(HtmlFormatter(style="default").get_token_style_defs("pre.highlight"))


def mentioned_names(body: str) -> set[str]:
    """The lower-case `@names` a body might mention (before checking who may be mentioned)."""
    return {match.group(1).lower() for match in MENTION.finditer(body or "")} if "@" in (body or "") else set()
