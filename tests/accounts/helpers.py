"""Small helpers the account tests share."""

from tests.conftest import PASSWORD

GENERIC_LOGIN_ERROR = "That username or email and password do not match an account."


def login(client, username: str, password: str = PASSWORD, *, address: str = "127.0.0.1", **fields):
    """Post the log-in form the way a browser does, from `address`."""
    data = {"username": username, "password": password, **fields}
    return client.post("/accounts/login/", data, REMOTE_ADDR=address)


def is_logged_in(client) -> bool:
    """Whether the client's session cookie opens the chats page (instead of redirecting to log in)."""
    response = client.get("/chats/")
    assert response.status_code in (200, 302)
    return response.status_code == 200
