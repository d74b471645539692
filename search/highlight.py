"""A message body with the searched words marked: `<mark>` around them, every other character escaped.

Our own marker over the stored body, the same on both databases: a word of the body
is marked when it is, ignoring case and accents, a searched word, has the same
English stem (Snowball, as PostgreSQL's index; SQLite's Porter stemmer agrees on
nearly every word), or starts with a searched prefix.
"""

from functools import lru_cache

import snowballstemmer
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.query import WORD, SearchQuery, normalize

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


@lru_cache(maxsize=8192)
def _normal_stem(text: str) -> tuple[str, str]:
    """A word of a body as compared: normalized, and its stem (the same few thousand words recur)."""
    word = normalize(text)
    return word, stem(word)


def highlight(body: str, query: SearchQuery) -> SafeString:
    words = {*query.words, *(w for phrase in query.phrases for w in phrase)}
    stems = {stem(w) for w in words}
    prefixes = query.prefixes
    parts = []
    position = 0
    for match in WORD.finditer(body):
        word, word_stem = _normal_stem(match.group())
        if not (word in words or word_stem in stems or (prefixes and word.startswith(prefixes))):
            continue
        parts.append(escape(body[position : match.start()]))
        parts.append(f"<mark>{escape(match.group())}</mark>")
        position = match.end()
    parts.append(escape(body[position:]))
    return mark_safe("".join(parts))  # noqa: S308 (every piece of the body went through escape())
