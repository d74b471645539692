import pytest

from tests.ops.conftest import log_output  # noqa: F401 (the stdout log, as text)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
