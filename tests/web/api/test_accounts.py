"""Accounts over the JSON API: sign up, API tokens, who am I, and the sign-in limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.services import accounts
from tests.web.conftest import bearer

PASSWORD = "correct horse battery"


def sign_up(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/users", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def token_for(client: TestClient, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def test_sign_up_get_a_token_and_ask_who_i_am(client: TestClient) -> None:
    created = sign_up(client, " Ada@Example.org ")
    assert set(created) == {"id", "email"} and created["email"] == "ada@example.org"
    token = token_for(client, "ADA@example.org")
    assert len(token) >= 43 and token != token_for(client, "ada@example.org")
    me = client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {"id": created["id"], "email": "ada@example.org", "teams": []}


def test_taken_email_is_409_and_short_password_422(client: TestClient) -> None:
    sign_up(client, "bob@example.org")
    taken = client.post("/api/users", json={"email": "BOB@example.org", "password": PASSWORD})
    assert taken.status_code == 409
    assert taken.json()["detail"][0]["field"] == "email"
    short = client.post("/api/users", json={"email": "c@example.org", "password": "123456789"})
    assert short.status_code == 422
    assert short.json()["detail"][0]["field"] == "password"
    not_email = client.post("/api/users", json={"email": "nobody", "password": PASSWORD})
    assert not_email.status_code == 422
    assert not_email.json()["detail"][0]["field"] == "email"


def test_me_needs_a_live_credential(client: TestClient) -> None:
    edit_key = client.post("/api/assessments", json={}).json()["edit_key"]
    for headers in ({}, bearer("adv_not-a-token"), bearer(edit_key), {"Authorization": "x"}):
        response = client.get("/api/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["detail"][0]["type"] == "unauthorized"


def test_wrong_password_and_unknown_email_look_the_same(client: TestClient) -> None:
    sign_up(client, "dora@example.org")
    wrong = client.post("/api/tokens", json={"email": "dora@example.org", "password": "x" * 12})
    unknown = client.post("/api/tokens", json={"email": "eve@example.org", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_failures_are_limited_per_account(client: TestClient) -> None:
    sign_up(client, "fay@example.org")
    for _ in range(accounts.ACCOUNT_FAILURES):
        failed = client.post("/api/tokens", json={"email": "fay@example.org", "password": "no" * 6})
        assert failed.status_code == 401
    # Now even the right password waits, and so does an email with no account: the same 429.
    for email in ("fay@example.org", "FAY@example.org"):
        limited = client.post("/api/tokens", json={"email": email, "password": PASSWORD})
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
        assert limited.json()["detail"][0]["type"] == "rate_limited"
    for _ in range(accounts.ACCOUNT_FAILURES):
        client.post("/api/tokens", json={"email": "ghost@example.org", "password": "no" * 6})
    ghost = client.post("/api/tokens", json={"email": "ghost@example.org", "password": PASSWORD})
    assert ghost.status_code == 429
    # Another account is not locked by it.
    sign_up(client, "gil@example.org")
    assert token_for(client, "gil@example.org")


def test_failures_are_limited_per_address(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "ADDRESS_FAILURES", 3)
    sign_up(client, "hal@example.org")
    for n in range(3):
        wrong = {"email": f"guess{n}@example.org", "password": "no" * 6}
        assert client.post("/api/tokens", json=wrong).status_code == 401
    limited = client.post("/api/tokens", json={"email": "hal@example.org", "password": PASSWORD})
    assert limited.status_code == 429 and "retry-after" in limited.headers


def test_a_success_clears_the_accounts_failures(client: TestClient) -> None:
    sign_up(client, "ida@example.org")
    for _ in range(2):
        for _ in range(accounts.ACCOUNT_FAILURES - 1):
            client.post("/api/tokens", json={"email": "ida@example.org", "password": "no" * 6})
        assert token_for(client, "ida@example.org")


def test_a_session_cookie_signs_in_and_a_forged_one_does_not(client: TestClient) -> None:
    created = sign_up(client, "jo@example.org")
    app = client.app
    with app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            cookie = accounts.start_session(session=session, user_id=created["id"], user_agent="t")
            session.flush()
    client.cookies.set("advisor_session", cookie)
    assert client.get("/api/me").json()["id"] == created["id"]
    client.cookies.set("advisor_session", "forged")
    assert client.get("/api/me").status_code == 401


def test_passwords_are_stored_as_argon2id_with_the_recommended_cost(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the suite hashes cheaply (tests/conftest.py); not here
    created = sign_up(client, "kim@example.org")
    from sqlalchemy import select

    from app.models import User

    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        stored = connection.execute(select(User.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and PASSWORD not in stored
    assert (
        client.get("/api/me", headers=bearer(token_for(client, "kim@example.org"))).json()["id"]
        == created["id"]
    )
