from tests.conftest import PASSWORD


def test_login_by_email_redirects_to_chats(client, alice):
    response = client.post("/accounts/login/", {"username": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/chats/"
    assert client.get("/chats/").status_code == 200
