"""Fixtures of the search tests: `search`, the JSON endpoint. The people are tests/conftest.py's
`cast` (olivia owns "Team", mia is a member, nora an outsider); messages are stored with
tests.conftest.send."""

import pytest

from accounts.models import User


@pytest.fixture
def search(login):
    """`search(user, q, **params)` → the JSON endpoint's answer (status, body)."""

    def run(user: User | None, q: str | None = None, **params):
        if q is not None:
            params["q"] = q
        response = login(user).get("/search/messages/", params)
        return response.status_code, response.json()

    return run


@pytest.fixture
def found(search):
    """`found(user, q, **params)` → the bodies of the results, in order (asserting a 200)."""

    def run(user: User, q: str, **params) -> list[str]:
        status, data = search(user, q, **params)
        assert status == 200, data
        return [r["message"]["body"] for r in data["results"]]

    return run
