import io
import logging
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.utils import timezone

from chatsite.logging import LineFormatter
from messaging.models import Message


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


@pytest.fixture
def command_help(capsys):
    """`manage.py <command> --help` as an operator runs it: exits 0, returns the text."""

    def run(name: str) -> str:
        # The command's own argv entry point; execute_from_command_line would also re-run
        # django.setup(), pointing the log handler at this test's captured (soon closed) stdout.
        command = load_command_class(get_commands()[name], name)
        with pytest.raises(SystemExit) as exit_info:
            command.run_from_argv(["manage.py", name, "--help"])
        assert exit_info.value.code == 0
        return capsys.readouterr().out

    return run


@pytest.fixture
def backdate():
    """Move messages into the past, as time would (services always stamp "now")."""

    def move(messages, *, days: float) -> None:
        when = timezone.now() - timedelta(days=days)
        Message.objects.filter(pk__in=[m.pk for m in messages]).update(created_at=when)

    return move


BASE_DIR = Path(__file__).resolve().parents[2]


def production_env(**extra) -> dict[str, str]:
    """The documented production environment, minus https (no TLS on loopback)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update(
        {
            "DEBUG": "0",
            "HTTPS": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
        }
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """`manage.py collectstatic` as a deploy runs it, into a fresh STATIC_ROOT."""
    root = tmp_path_factory.mktemp("staticfiles")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=production_env(STATIC_ROOT=root),
        check=True,
        timeout=300,
    )
    return root
