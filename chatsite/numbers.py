"""Whole numbers from URLs and query strings, capped by length before they are converted.

Python refuses to convert strings of more than 4,300 digits (ValueError, which
became a 500), and a number past the database's bigint makes the query raise
instead of finding nothing. Every numeric parameter is read here: at most
MAX_DIGITS ASCII digits and at most MAX_ID, else it is not a valid number.
"""

from django.urls import register_converter

MAX_ID = 2**63 - 1  # the database's bigint: larger numbers name nothing
MAX_DIGITS = len(str(MAX_ID))  # 19


def whole_number(raw: str | None) -> int | None:
    """`raw` as a whole number 0..MAX_ID, or None when it is anything else (checked before converting)."""
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def row_id(value) -> int | None:
    """A database id (or seq) given as an int or a string: 1..MAX_ID, else None. The one place services
    and access checks read an id from a caller: a string is bounded by length before it is converted."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str):
        return whole_number(value.strip()) or None
    return None


class IdConverter:
    """`<id:name>` in a route: like `<int:name>`, but at most MAX_DIGITS digits and MAX_ID (else 404)."""

    regex = f"[0-9]{{1,{MAX_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = whole_number(value)
        if number is None:
            raise ValueError("not an id")  # the resolver then tries the next route, and answers 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
