"""docs/protocol.md is the public contract: every route, frame type, error code and close code is in it."""

import re
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

from messaging import protocol

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def _paths(patterns, prefix: str = "") -> list[str]:
    """Every route as written in the doc: `<int:conversation_id>` → `<conversation_id>`."""
    paths = []
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith("admin/"):
                paths += _paths(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            paths.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route))
    return paths


def test_every_route_is_documented():
    paths = _paths(get_resolver().url_patterns)
    assert "/chats/<conversation_id>/messages/" in paths  # the walk finds nested routes
    assert [path for path in paths if f"`{path}`" not in DOC] == []


def test_every_frame_type_error_code_and_close_code_is_documented():
    names = protocol.CLIENT_TYPES | protocol.ERROR_CODES
    names |= {
        value for key, value in vars(protocol).items() if key.isupper() and isinstance(value, str) and "." in value
    }
    names |= {protocol.HELLO, protocol.PRESENCE, protocol.UNREAD, protocol.ERROR, protocol.SYNC_DONE}
    assert [name for name in sorted(names) if f"`{name}`" not in DOC] == []
    for code in (
        protocol.CLOSE_SESSION_ENDED,
        protocol.CLOSE_ABUSE,
        protocol.CLOSE_TOO_MANY_SOCKETS,
        protocol.CLOSE_TOO_SLOW,
    ):
        assert f"**{code}**" in DOC


def test_internal_layer_events_are_not_presented_as_frames():
    """Channel-layer event names (handled inside the consumer) are not part of the contract."""
    assert "`access.removed`" not in DOC
    assert "`sockets.close`" not in DOC
