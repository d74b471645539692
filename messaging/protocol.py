"""The WebSocket contract's names, defined once: frame types, error codes, close codes.

docs/protocol.md ("WebSocket") describes every frame; the consumer, the event
publisher and the tests import these instead of spelling the strings again.
"""

# Client → server frames.
MESSAGE_SEND = "message.send"
MESSAGE_EDIT = "message.edit"
MESSAGE_DELETE = "message.delete"
TYPING = "typing"
READ = "read"
SYNC = "sync"
REACTION_TOGGLE = "reaction.toggle"

CLIENT_TYPES = frozenset({MESSAGE_SEND, MESSAGE_EDIT, MESSAGE_DELETE, TYPING, READ, SYNC, REACTION_TOGGLE})

# Server → client frames (`typing` and `read` are relayed with the same names).
HELLO = "hello"
MESSAGE_ACK = "message.ack"
MESSAGE_NEW = "message.new"
MESSAGE_EDITED = "message.edited"
MESSAGE_DELETED = "message.deleted"
SYNC_DONE = "sync.done"
PRESENCE = "presence"
UNREAD = "unread"
CONVERSATION_ADDED = "conversation.added"
CONVERSATION_REMOVED = "conversation.removed"
CONVERSATION_STARRED = "conversation.starred"
USER_UPDATED = "user.updated"
REACTION_CHANGED = "reaction.changed"
CONVERSATION_MUTED = "conversation.muted"
ERROR = "error"

# Error codes of `error` frames.
INVALID_JSON = "invalid_json"
UNKNOWN_TYPE = "unknown_type"
INVALID = "invalid"
TOO_LONG = "too_long"
BLANK = "blank"
FRAME_TOO_LARGE = "frame_too_large"
NOT_FOUND = "not_found"
FORBIDDEN = "forbidden"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"  # the database is unreachable: nothing was stored, try again
INTERNAL_ERROR = "internal_error"  # a fault on the server's side, logged there: nothing was stored

ERROR_CODES = frozenset(
    {
        INVALID_JSON,
        UNKNOWN_TYPE,
        INVALID,
        TOO_LONG,
        BLANK,
        FRAME_TOO_LARGE,
        NOT_FOUND,
        FORBIDDEN,
        RATE_LIMITED,
        UNAVAILABLE,
        INTERNAL_ERROR,
    }
)

# Close codes (4000-4999 are the application's own).
CLOSE_SESSION_ENDED = 4001  # logout, password change elsewhere, deactivation: log in again
CLOSE_ABUSE = 4008  # too many bad or rate-limited frames in a short time: back off before reconnecting
CLOSE_TOO_MANY_SOCKETS = 4009  # the user has WS_MAX_SOCKETS_PER_USER sockets open on this server process already
CLOSE_TOO_SLOW = 4010  # the client fell WS_MAX_PENDING_EVENTS behind reading: reconnect and `sync`
