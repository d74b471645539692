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
"""


class UnreadCounters:
    __slots__ = ("last_seq", "unread")

    def __init__(self) -> None:
        self.last_seq: dict[int, int] = {}
        self.unread: dict[int, int] = {}

    def __contains__(self, conversation_id: int) -> bool:
        return conversation_id in self.last_seq

    def ids(self) -> set[int]:
        return set(self.last_seq)

    def set(self, conversation_id: int, *, last_seq: int, unread: int) -> None:
        """Start (or restart) counting from one database read: see the module docstring."""
        self.last_seq[conversation_id] = last_seq
        self.unread[conversation_id] = unread

    def drop(self, conversation_id: int) -> None:
        self.last_seq.pop(conversation_id, None)
        self.unread.pop(conversation_id, None)

    def message_new(self, conversation_id: int, seq: int | None, *, mine: bool) -> int | None:
        """Account for a `message.new`; the new unread count to announce, or None if unchanged."""
        if seq is None or conversation_id not in self.last_seq or seq <= self.last_seq[conversation_id]:
            return None  # already in the count
        self.last_seq[conversation_id] = seq
        if mine:
            return None
        self.unread[conversation_id] += 1
        return self.unread[conversation_id]

    def read(self, conversation_id: int, count: int) -> None:
        """The user's read marker moved (an `unread` frame from `read_mark`)."""
        if conversation_id in self.unread:
            self.unread[conversation_id] = count

    def has_unread(self, conversation_id: int) -> bool:
        return bool(self.unread.get(conversation_id))
