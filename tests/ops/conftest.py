import io
import logging

import pytest

from chatsite.logging import LineFormatter


@pytest.fixture
def log_output():
    """What the configured stdout handler writes during the test, as text."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, LineFormatter)]
    assert handlers, "the stdout handler from settings.LOGGING is not installed"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
