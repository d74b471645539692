import io

import pytest
from django.core.management import call_command


@pytest.fixture
def run_command():
    """`call_command` returning what the command printed on stdout."""

    def run(*args, **options) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out, **options)
        return out.getvalue()

    return run
