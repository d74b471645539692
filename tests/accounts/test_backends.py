"""The login backend's `get_user` (every request and socket connect) reads its row by hand-written SQL:
it gives what Django's ModelBackend.get_user gives through the ORM."""

import pytest
from django.contrib.auth.backends import ModelBackend

from accounts import services
from accounts.backends import UsernameOrEmailBackend
from accounts.models import User

pytestmark = pytest.mark.django_db


def _fields(user: User) -> dict:
    return {f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields}


def test_get_user_is_the_orms_user(alice, bob):
    services.user_deactivate(user=bob)
    backend = UsernameOrEmailBackend()
    for user_id in (alice.pk, bob.pk, bob.pk + 1000):
        assert backend.get_user(user_id) == ModelBackend().get_user(user_id)
    user = backend.get_user(alice.pk)
    assert _fields(user) == _fields(User.objects.get(pk=alice.pk))
    assert user.last_login is None and user.date_joined.tzinfo is not None and user.is_active is True
    assert not user._state.adding and user._state.db == "default"
    assert backend.get_user(bob.pk) is None  # deactivated: no user, as ModelBackend says


@pytest.mark.parametrize("user_id", [0, -1, 2**63, "1; drop", "", None, "\x00", True])
def test_get_user_of_an_id_that_names_nobody_is_none(alice, user_id):
    assert UsernameOrEmailBackend().get_user(user_id) is None


def test_a_logged_in_page_has_its_user(alice, client):
    client.force_login(alice)
    assert client.get("/chats/").context["user"] == alice
