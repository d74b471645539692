import pytest


@pytest.fixture
def grace(make_user):
    return make_user("grace.hopper", display_name="Grace Hopper", email="grace@navy.example")


@pytest.fixture
def zoe(make_user):
    return make_user("zoe", display_name="Zoë Ödegaard", email="zoe@secret.example")
