import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import User
from tests.accounts.helpers import is_logged_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def signup(client, username="dana", email="dana@example.com", password=PASSWORD, password2=None, **extra):
    data = {"username": username, "email": email, "password1": password, "password2": password2 or password}
    return client.post("/accounts/signup/", {**data, **extra})


def test_signup_page_has_the_four_fields(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    for name in ("username", "email", "password1", "password2"):
        assert f'name="{name}"' in response.content.decode()


def test_signup_creates_user_logs_in_with_browser_session_cookie(client):
    response = signup(client, username="Dana.K-1", email="Dana@Example.COM")
    assert response.status_code == 302
    assert response["Location"] == "/chats/"
    user = User.objects.get(username="Dana.K-1")
    assert user.email == "Dana@example.com"  # the domain part is normalised
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2")
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # ends when the browser closes
    assert is_logged_in(client)


def test_signup_honours_safe_next_and_ignores_unsafe(client, make_user):
    assert signup(client, next="/groups/new/")["Location"] == "/groups/new/"
    client.logout()
    response = signup(client, username="erin", email="erin@example.com", next="https://evil.example/")
    assert response["Location"] == "/chats/"


@pytest.mark.parametrize("taken", ["ALICE", "alice", "Alice"])
def test_duplicate_username_in_any_case_is_refused(client, alice, taken):
    response = signup(client, username=taken, email="other@example.com")
    assert response.status_code == 400
    assert "That username is taken." in response.content.decode()
    assert User.objects.count() == 1
    assert not is_logged_in(client)


def test_duplicate_email_in_another_case_is_refused(client, alice):
    response = signup(client, username="alice2", email="ALICE@EXAMPLE.COM")
    assert response.status_code == 400
    assert "An account with that email address already exists" in response.content.decode()
    assert not User.objects.filter(username="alice2").exists()


@pytest.mark.parametrize(
    "username",
    ["ab", "a" * 31, "has space", "slash/name", "at@sign", "ünïcode", "emoji😀x", ""],
)
def test_bad_usernames_are_refused(client, username):
    response = signup(client, username=username)
    assert response.status_code == 400
    assert User.objects.count() == 0
    assert response.context["form"].errors["username"]


@pytest.mark.parametrize("username", ["abc", "a" * 30, "A.b_c-9"])
def test_edge_usernames_are_accepted(client, username):
    assert signup(client, username=username).status_code == 302
    assert User.objects.filter(username=username).exists()


def test_username_rule_holds_in_the_model_too(db):
    """The service validates as well: a trailing newline does not slip past "$"."""
    with pytest.raises(ValidationError):
        services.user_create(username="abc\n", email="abc@example.com", password=PASSWORD)
    with pytest.raises(ValidationError):
        services.user_create(username="no spaces", email="ns@example.com", password=PASSWORD)


def test_short_password_is_refused(client):
    response = signup(client, password="Xq7#mVp2!kd")  # 11 characters
    assert response.status_code == 400
    assert "at least 12 characters" in response.content.decode()
    assert User.objects.count() == 0


def test_twelve_and_128_character_passwords_are_accepted_129_is_not(client):
    assert signup(client, password="Xq7#mVp2!kdZ").status_code == 302
    client.logout()
    long_password = "Xq7#mVp2!kdZ" * 10 + "abcdefgh"
    assert len(long_password) == 128
    assert signup(client, username="erin", email="erin@example.com", password=long_password).status_code == 302
    client.logout()
    response = signup(client, username="finn", email="finn@example.com", password=long_password + "x")
    assert response.status_code == 400
    assert "at most 128 characters" in response.content.decode()


@pytest.mark.parametrize(
    ("password", "password2", "message"),
    [
        ("password123456", None, "This password is too common."),
        ("839201749305", None, "This password is entirely numeric."),
        ("dana-example-com", None, "too similar"),
        (PASSWORD, PASSWORD + "x", "The two password fields didn"),
    ],
)
def test_django_password_validators_apply(client, password, password2, message):
    response = signup(client, password=password, password2=password2)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.count() == 0


def test_display_name_is_optional_and_name_falls_back_to_username(make_user):
    plain = make_user("plain")
    named = make_user("named", display_name="Named Person")
    assert plain.display_name == "" and plain.name == "plain"
    assert named.name == "Named Person"


def test_logged_in_user_visiting_signup_goes_to_chats(alice_client):
    response = alice_client.get("/accounts/signup/")
    assert response.status_code == 302 and response["Location"] == "/chats/"


def test_the_service_refuses_a_name_or_email_taken_in_another_case(alice):
    """The last line of defence behind the form (a concurrent sign-up): the model's constraints."""
    with pytest.raises(ValidationError) as error:
        services.user_create(username="ALICE", email="new@example.com", password=PASSWORD)
    assert "That username is taken." in str(error.value)
    with pytest.raises(ValidationError) as error:
        services.user_create(username="alice2", email="Alice@Example.com", password=PASSWORD)
    assert "Another account uses that email address." in str(error.value)
    assert User.objects.count() == 1
