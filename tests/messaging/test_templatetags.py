"""The chat template filters (message bodies: tests/messaging/test_rendering.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.templatetags.chat import chat_time, initial


@pytest.mark.parametrize(("delta", "pattern"), [(timedelta(0), "%H:%M"), (timedelta(days=400), "%b %-d %Y, %H:%M")])
def test_chat_time(delta, pattern):
    moment = timezone.localtime() - delta
    assert chat_time(moment) == moment.strftime(pattern)
    assert chat_time(None) == ""


def test_initial():
    assert initial("alice") == "A" and initial("") == "?" and initial("  ") == "?"
