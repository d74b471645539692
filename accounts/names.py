"""How people's names are compared: ignoring letter case and accents, word by word.

The same folding runs on the write path (`User.search_name`, kept by `User.save`)
and on every query, so matching is one `LIKE` on a plain column and behaves the
same on SQLite and PostgreSQL (no `unaccent` extension, no ICU collation).
"""

import re
import unicodedata

# Username parts count as words too: "grace.hopper" is found by "hopper".
_WORD_SPLIT = re.compile(r"[\s._\-]+")


def fold(text: str) -> str:
    """Case-folded, accents stripped, inner whitespace collapsed: "  Zoë  Ödegaard" -> "zoe odegaard"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def words(text: str) -> list[str]:
    """The folded words of a name, in order, without repeats."""
    seen: dict[str, None] = {}
    for word in _WORD_SPLIT.split(fold(text)):
        if word:
            seen.setdefault(word, None)
    return list(seen)


def search_name(username: str, display_name: str) -> str:
    """The stored search key: the shown name first (so it sorts by name), then the username and its parts,
    each word preceded by a space, so "a prefix of any word" is `LIKE '% prefix%'`."""
    shown = fold(display_name) or fold(username)
    keys = [shown, *words(display_name), fold(username), *words(username)]
    unique = list(dict.fromkeys(k for k in keys if k))
    return " " + " ".join(unique) + " "


def query_terms(query: str) -> list[str]:
    """Folded terms of a search box: every one must start a word of the name."""
    return [term for term in fold(query).lstrip("@").split(" ") if term]
