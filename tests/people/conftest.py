import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made through the real service; argon2's cost buys nothing here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def grace(make_user):
    return make_user("grace.hopper", display_name="Grace Hopper", email="grace@navy.example")


@pytest.fixture
def zoe(make_user):
    return make_user("zoe", display_name="Zoë Ödegaard", email="zoe@secret.example")
