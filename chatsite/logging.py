"""Single-line log records with the user and conversation ids where known."""

import logging


class ContextFilter(logging.Filter):
    """Fill `user_id` and `conversation_id` so every record formats, with '-' when unknown."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in ("user_id", "conversation_id"):
            if not hasattr(record, name):
                setattr(record, name, "-")
        return True
