"""Each socket's unread counters, and the one rule that keeps them exact.

A socket knows, per conversation it may deliver, the highest seq it has
accounted for (`last_seq`) and how many messages up to there are unread. Both
come from one database read (`selectors.conversation_cursors` / `cursors_for`)
taken after the socket has joined the conversation's group, so that:
- a message stored after that read is published after the join, arrives as
  `message.new` with a seq above `last_seq`, and is counted once here;
- a message stored before that read is already in the count, and its
  `message.new` (which may still arrive) is at or below `last_seq`: never
  counted again.
Counting in the database for every recipient of every message would turn one
message into N queries; this keeps it to none.

Unread mentions follow the same rule: their count comes from the same read as
the unread count (the cursor's `mentions`), and a `message.new` above `last_seq`
that mentions this user adds one.
"""

import json
import re

from messaging import protocol

# How the stored HTML marks a mention (messaging.rendering): the reader's id, or "all". The
# whole tag is matched: a "<" in a body's text is always escaped, so only a real mention matches.
_MENTION_MARK = re.compile(r'<span class="mention" data-mention="(\d+|all)">')


def mentions_user(frame_text: str, user_id: int) -> bool:
    """Whether a `message.new` frame's message mentions this user. Decoded only when its text
    holds a mention mark at all (rare), and then only the rendered `html` is looked at."""
    if "data-mention" not in frame_text:
        return False
    html = (json.loads(frame_text).get("message") or {}).get("html") or ""
    return any(mark in ("all", str(user_id)) for mark in _MENTION_MARK.findall(html))


def unread_frame(conversation_id: int, count: int, mentions: int) -> str:
    """The `unread` frame's text, as `chatsite.sockets.encode` writes it (a test holds the two equal).

    Sent after nearly every `message.new`, to every recipient: a template of three whole numbers
    costs a fraction of a `json.dumps` of the dict."""
    return (
        f'{{"type":"{protocol.UNREAD}","conversation":{conversation_id:d},"count":{count:d},"mentions":{mentions:d}}}'
    )


class UnreadCounters:
    __slots__ = ("last_seq", "mentions", "unread")

    def __init__(self) -> None:
        self.last_seq: dict[int, int] = {}
        self.unread: dict[int, int] = {}
        self.mentions: dict[int, int] = {}

    def __contains__(self, conversation_id: int) -> bool:
        return conversation_id in self.last_seq

    def ids(self) -> set[int]:
        return set(self.last_seq)

    def set(self, conversation_id: int, *, last_seq: int, unread: int, mentions: int = 0) -> None:
        """Start (or restart) counting from one database read: see the module docstring."""
        self.last_seq[conversation_id] = last_seq
        self.unread[conversation_id] = unread
        self.mentions[conversation_id] = mentions

    def drop(self, conversation_id: int) -> None:
        self.last_seq.pop(conversation_id, None)
        self.unread.pop(conversation_id, None)
        self.mentions.pop(conversation_id, None)

    def message_new(self, conversation_id: int, seq: int | None, *, mine: bool, mentioned: bool = False) -> int | None:
        """Account for a `message.new`; the new unread count to announce, or None if unchanged."""
        if seq is None or conversation_id not in self.last_seq or seq <= self.last_seq[conversation_id]:
            return None  # already in the count
        self.last_seq[conversation_id] = seq
        if mine:
            return None
        self.unread[conversation_id] += 1
        if mentioned:
            self.mentions[conversation_id] += 1
        return self.unread[conversation_id]

    def read(self, conversation_id: int, count: int, mentions: int = 0) -> None:
        """The user's read marker moved (an `unread` frame from `read_mark`)."""
        if conversation_id in self.unread:
            self.unread[conversation_id] = count
            self.mentions[conversation_id] = mentions

    def has_unread(self, conversation_id: int) -> bool:
        return bool(self.unread.get(conversation_id))
