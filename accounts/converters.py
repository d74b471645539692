"""`<username:name>` in a route: one path segment without control characters, else 404.

PostgreSQL text cannot hold NUL: a `%00` in a username segment reached the lookup and raised
DataError (a 500). Usernames are narrower still (accounts.models.username_validator); this only
keeps what no username can contain out of the lookups, so every stored name still reverses.
"""

from django.urls import register_converter


class UsernameConverter:
    regex = r"[^/\x00-\x1f\x7f]{1,150}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UsernameConverter, "username")
