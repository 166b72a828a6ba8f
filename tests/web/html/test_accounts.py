"""Sign-up, sign-in and sign-out pages: forms without JavaScript, CSRF, the sign-in limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.services import accounts
from app.web.presenters import urls
from tests.web.conftest import csrf_token, one, post_form

PASSWORD = "a long enough password"


def sign_up(client: TestClient, email: str, invite: str | None = None) -> str:
    token = csrf_token(client, urls.signup())
    extra = {"invite": invite} if invite else {}
    made = post_form(client, urls.signup(), token, email=email, password=PASSWORD, **extra)
    assert made.status_code == 303, made.text
    return made.headers["location"]


def test_sign_up_signs_in_and_sign_out_ends_the_session(client: TestClient) -> None:
    assert sign_up(client, "ann@example.org") == urls.home()
    cookie = client.cookies["advisor_session"]
    assert client.get("/api/me").json()["email"] == "ann@example.org"
    out = post_form(client, urls.signout(), csrf_token(client, urls.signin()))
    assert out.status_code == 303 and "advisor_session" not in client.cookies
    client.cookies.set("advisor_session", cookie)  # a copy kept from before: revoked
    assert client.get("/api/me").status_code == 401


def test_the_session_cookie_is_httponly_and_lax(client: TestClient) -> None:
    token = csrf_token(client, urls.signup())
    made = post_form(client, urls.signup(), token, email="c@example.org", password=PASSWORD)
    set_cookie = made.headers["set-cookie"].lower()
    assert "advisor_session=" in set_cookie and "httponly" in set_cookie
    assert "samesite=lax" in set_cookie


def test_sign_up_refusals_keep_the_email_and_say_why(client: TestClient) -> None:
    sign_up(client, "bob@example.org")
    client.cookies.delete("advisor_session")
    token = csrf_token(client, urls.signup())
    taken = post_form(client, urls.signup(), token, email="bob@example.org", password=PASSWORD)
    assert taken.status_code == 409
    assert one(taken.text, "#email")["value"] == "bob@example.org"
    assert "already exists" in one(taken.text, "[role=alert]").get_text()
    short = post_form(client, urls.signup(), token, email="new@example.org", password="short")
    assert short.status_code == 422 and "at least 10" in one(short.text, "[role=alert]").get_text()


def test_sign_in_wrong_and_unknown_look_the_same_then_429(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_up(client, "dee@example.org")
    client.cookies.delete("advisor_session")
    token = csrf_token(client, urls.signin())
    wrong = post_form(client, urls.signin(), token, email="dee@example.org", password="nope" * 3)
    unknown = post_form(client, urls.signin(), token, email="who@example.org", password="nope" * 3)
    assert wrong.status_code == unknown.status_code == 401
    alert = one(wrong.text, "[role=alert]").get_text()
    assert alert == one(unknown.text, "[role=alert]").get_text()
    monkeypatch.setattr(accounts, "ACCOUNT_FAILURES", 1)
    limited = post_form(client, urls.signin(), token, email="dee@example.org", password=PASSWORD)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert "advisor_session" not in client.cookies


def test_sign_in_sets_a_new_session(client: TestClient) -> None:
    sign_up(client, "eve@example.org")
    first = client.cookies["advisor_session"]
    token = csrf_token(client, urls.signin())
    again = post_form(client, urls.signin(), token, email="EVE@example.org", password=PASSWORD)
    assert again.status_code == 303 and client.cookies["advisor_session"] != first


def test_every_account_form_refuses_a_missing_or_wrong_csrf_token(client: TestClient) -> None:
    fields = {"email": "f@example.org", "password": PASSWORD}
    for url in (urls.signup(), urls.signin(), urls.signout()):
        for token in (None, "forged"):
            refused = post_form(client, url, token, **fields)
            assert refused.status_code == 403, (url, token)
    assert client.post("/api/tokens", json=fields).status_code == 401  # nothing was created
