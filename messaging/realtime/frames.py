"""Client frames: from text to a validated frame and its handler, or a `FrameError`.

Every check on what a client sends that does not need the database lives here,
so the consumer's handlers start from well-formed values. Nothing a client sends
can raise anything but `FrameError` (or `Invalid` from the field readers):
oversize text, deep nesting (json's RecursionError), numbers with thousands of
digits, wrong types, text the database cannot store (NUL, unpaired surrogates).
"""

import json

from django.conf import settings

from chatsite.errors import Invalid
from chatsite.numbers import MAX_ID
from chatsite.numbers import whole_number as parse_whole_number
from messaging import protocol

# Client frame type -> the consumer's handler method: the table the consumer dispatches on.
HANDLERS: dict[str, str] = {kind: "on_" + kind.replace(".", "_") for kind in protocol.CLIENT_TYPES}


class FrameError(Exception):
    """A frame refused before any handler ran: `code` is an `error` frame code."""

    def __init__(self, code: str, detail: str, *, client_id: str | None = None):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id  # the refused frame's own, when it was read far enough to have one


def too_large_detail() -> str:
    return f"Frames can be at most {settings.WS_MAX_FRAME_BYTES} bytes."


def _too_large(text: str) -> bool:
    limit = settings.WS_MAX_FRAME_BYTES
    if len(text) > limit:
        return True
    # UTF-8 takes at most 4 bytes a character: only measure when it could matter.
    return len(text) * 4 > limit and len(text.encode()) > limit


def parse(message: dict) -> tuple[str, dict]:
    """`(handler name, frame)` for an ASGI `websocket.receive` message. Raises FrameError."""
    text = message.get("text")
    if text is None:
        data = message.get("bytes") or b""
        if len(data) > settings.WS_MAX_FRAME_BYTES:
            raise FrameError(protocol.FRAME_TOO_LARGE, too_large_detail())
        raise FrameError(protocol.INVALID, "Send JSON text frames, not binary ones.")
    if _too_large(text):
        raise FrameError(protocol.FRAME_TOO_LARGE, too_large_detail())
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested [ or {
        raise FrameError(protocol.INVALID_JSON, "That frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError(protocol.INVALID, "A frame is a JSON object with a “type”.")
    # Both come only as a \u escape (JSON text holds no raw control character): most frames skip the walk.
    if "\\u" in text and not _storable(frame):
        raise FrameError(
            protocol.INVALID,
            "Text cannot contain NUL characters or unpaired surrogates.",
            client_id=_storable_client_id(frame),
        )
    kind = frame.get("type")
    handler = HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise FrameError(protocol.UNKNOWN_TYPE, "Unknown frame type.", client_id=echoed_client_id(frame))
    return handler, frame


def _storable_client_id(frame: dict) -> str | None:
    """The client_id to echo from a frame refused for its text: only one that is itself clean."""
    value = echoed_client_id(frame)
    return value if value is not None and _storable(value) else None


def _storable(value) -> bool:
    """No string anywhere in `value` has a NUL or an unpaired surrogate: PostgreSQL text cannot hold
    the first, UTF-8 cannot encode the second, and either raised from the write (an internal error).
    A loop, not recursion: the frame may be nested as deep as the JSON parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _encodable(item)):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def whole_number(frame: dict, name: str) -> int:
    """A field that must be an id or a seq: a JSON integer from 0 to the database's bigint."""
    value = frame.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise Invalid(f"“{name}” must be a whole number.", code=protocol.INVALID)
    return value


def reply_to(frame: dict) -> int | None:
    """`message.send`'s optional `reply_to`: the seq of the message answered, or null/absent."""
    if frame.get("reply_to") is None:
        return None
    return whole_number(frame, "reply_to")


def client_id(frame: dict) -> str:
    """`message.send`'s idempotency key: required on the socket, it makes a retry after a drop safe."""
    value = frame.get("client_id")
    if not isinstance(value, str) or not value:
        raise Invalid("“client_id” must be a non-empty string (a UUID the client chose).", code=protocol.INVALID)
    return value


def echoed_client_id(frame: dict) -> str | None:
    """The `client_id` an `error` frame carries back: any change (`message.send`, `message.edit`,
    `message.delete`, `reaction.toggle`) may name itself with one, so the client undoes the very
    change that was refused. Anything but a non-empty string is not echoed."""
    value = frame.get("client_id")
    return value if isinstance(value, str) and value else None


def cursors(frame: dict) -> dict[int, int]:
    """`sync`'s `{conversation id: last seq seen}`, at most WS_SYNC_MAX_CURSORS of them."""
    raw = frame.get("cursors")
    if not isinstance(raw, dict):
        raise Invalid("“cursors” must be an object of conversation id → last seq seen.", code=protocol.INVALID)
    if len(raw) > settings.WS_SYNC_MAX_CURSORS:
        raise Invalid(
            f"At most {settings.WS_SYNC_MAX_CURSORS} cursors per sync; send the rest in another.",
            code=protocol.INVALID,
        )
    found = {}
    for key, seq in raw.items():
        conversation_id = parse_whole_number(key)  # bounded by length before converting
        if conversation_id is None:
            raise Invalid("Cursor keys must be conversation ids.", code=protocol.INVALID)
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_ID:
            raise Invalid("Cursor values must be whole numbers.", code=protocol.INVALID)
        if conversation_id > 0:
            found[conversation_id] = seq
    return found


def attachment_ids(frame: dict) -> list[str] | None:
    """`message.send`'s optional `attachments`: a list of at most ATTACHMENT_MAX_PER_MESSAGE upload ids
    (strings). Whether they are the sender's uploads is the service's check."""
    value = frame.get("attachments")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and 0 < len(item) <= 64 for item in value):
        raise Invalid("“attachments” must be a list of upload ids.", code=protocol.INVALID)
    if len(value) > settings.ATTACHMENT_MAX_PER_MESSAGE:
        raise Invalid(f"A message can have at most {settings.ATTACHMENT_MAX_PER_MESSAGE} files.", code=protocol.INVALID)
    return value
