"""The search query language, parsed into a safe structure (docs/protocol.md, "Search").

    deploy review            words: every one must match (stemmed: "reviews" finds "review")
    "exact phrase"           these words, next to each other, in this order
    -draft  -"old plan"      exclude messages with that word or phrase
    depl*                    words starting with "depl"
    from:alice               written by that user (username, any letter case)
    before:2026-11-01        sent before that day began (UTC)
    after:2026-11-01         sent after that day ended (UTC)
    has:link                 containing an http(s):// or www. link

Anything else, unknown operators included, is searched as words. Only letters and
digits ever reach the database, as parameters: the backends build their own
full-text syntax from these words (search/backends.py).
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from chatsite.errors import Invalid

MAX_QUERY_LENGTH = 200
MAX_TERMS = 20  # words, phrases and prefixes together: a bound on the work one query asks for

WORD = re.compile(r"[^\W_]+")  # letters and digits: what both databases' tokenizers call a word
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_OPERATOR = re.compile(r"^(from|before|after|has):(.*)$", re.IGNORECASE)


def normalize(word: str) -> str:
    """Lower case without accents: how both backends compare words."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(text: str) -> list[str]:
    return [normalize(w) for w in WORD.findall(text)]


@dataclass(frozen=True)
class SearchQuery:
    words: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    prefixes: tuple[str, ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()  # each a word (one item) or a phrase
    author: str | None = None
    before: date | None = None
    after: date | None = None
    has_link: bool = False

    @property
    def has_text(self) -> bool:
        """Some word, phrase or prefix must match (exclusions alone do not count)."""
        return bool(self.words or self.phrases or self.prefixes)

    @property
    def is_empty(self) -> bool:
        return not (self.has_text or self.excluded or self.author or self.before or self.after or self.has_link)


@dataclass
class _Builder:
    words: list = field(default_factory=list)
    phrases: list = field(default_factory=list)
    prefixes: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    filters: dict = field(default_factory=dict)

    def add_words(self, text: str, *, exclude: bool = False) -> None:
        for word in words_of(text):
            if exclude:
                self.excluded.append((word,))
            else:
                self.words.append(word)

    def add_phrase(self, text: str, *, exclude: bool = False) -> None:
        words = tuple(words_of(text))
        if not words:
            return
        if exclude:
            self.excluded.append(words)
        elif len(words) == 1:
            self.words.append(words[0])
        else:
            self.phrases.append(words)


def _day(operator: str, value: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid(f"{operator}: needs a date written YYYY-MM-DD, like {operator}:2026-01-31.")


def _operator(builder: _Builder, name: str, value: str) -> bool:
    """Apply a known operator; False when it is not one (then it is searched as words)."""
    name = name.lower()
    if name == "from" and value:
        builder.filters["author"] = value.lstrip("@")
    elif name in ("before", "after") and value:
        builder.filters[name] = _day(name, value)
    elif name == "has" and value.lower() == "link":
        builder.filters["has_link"] = True
    else:
        return False
    return True


def parse(text: str) -> SearchQuery:
    """The query, or Invalid (too long, a malformed date)."""
    if len(text) > MAX_QUERY_LENGTH:
        raise Invalid(f"Searches can be at most {MAX_QUERY_LENGTH} characters (this one has {len(text)}).")
    builder = _Builder()
    for match in _TOKEN.finditer(text):
        negated, phrase, token = match.groups()
        if token is None:
            builder.add_phrase(phrase, exclude=bool(negated))
            continue
        operator = _OPERATOR.match(token)
        if operator and _operator(builder, *operator.groups()):
            continue
        if token.startswith("-") and len(token) > 1:
            builder.add_words(token[1:], exclude=True)
        elif token.endswith("*"):
            words = words_of(token)
            if words:
                builder.words.extend(words[:-1])
                builder.prefixes.append(words[-1])
        else:
            builder.add_words(token)
    query = SearchQuery(
        words=tuple(dict.fromkeys(builder.words)),
        phrases=tuple(dict.fromkeys(builder.phrases)),
        prefixes=tuple(dict.fromkeys(builder.prefixes)),
        excluded=tuple(dict.fromkeys(builder.excluded)),
        **builder.filters,
    )
    if len(query.words) + len(query.phrases) + len(query.prefixes) + len(query.excluded) > MAX_TERMS:
        raise Invalid(f"Use at most {MAX_TERMS} words, phrases and exclusions in one search.")
    return query
