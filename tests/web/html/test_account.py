"""The account page: password, API tokens shown once and revoked, sessions listed and ended."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.web.presenters import urls
from tests.web.conftest import bearer, csrf_token, one, parse, post_form, signed_in_browser

PASSWORD = "browser password"  # signed_in_browser's
XSS = '"><script>alert(1)</script>'


def test_tokens_are_shown_once_work_and_revoke(client: TestClient) -> None:
    signed_in_browser(client, "ann@example.org")
    token = csrf_token(client, urls.account())
    made = post_form(client, urls.account_tokens(), token, name=XSS)
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    api_token = str(one(made.text, "#new-token")["value"])
    assert client.get("/api/me", headers=bearer(api_token)).status_code == 200
    page = client.get(urls.account()).text
    assert api_token not in page  # shown once
    assert [n.get_text() for n in parse(page).select(".tokens .name")] == [XSS]
    assert not parse(page).select("main script")
    revoke = one(page, ".tokens form")["action"]
    assert post_form(client, str(revoke), token).status_code == 303
    with TestClient(client.app) as other:
        assert other.get("/api/me", headers=bearer(api_token)).status_code == 401


def test_password_change_ends_other_sessions_and_sessions_can_be_ended(
    client: TestClient,
) -> None:
    signed_in_browser(client, "bob@example.org")
    with TestClient(client.app) as laptop:
        laptop_form = {"email": "bob@example.org", "password": PASSWORD}
        signed = post_form(laptop, urls.signin(), csrf_token(laptop, urls.signin()), **laptop_form)
        assert signed.status_code == 303
        token = csrf_token(client, urls.account())
        sessions = parse(client.get(urls.account()).text).select(".sessions li")
        assert len(sessions) == 2
        # End the laptop's session from here.
        other = one(client.get(urls.account()).text, ".sessions form")["action"]
        assert post_form(client, str(other), token).status_code == 303
        assert laptop.get("/api/me").status_code == 401
        # Sign the laptop in again, then change the password here: the laptop is signed out.
        post_form(laptop, urls.signin(), csrf_token(laptop, urls.signin()), **laptop_form)
        assert laptop.get("/api/me").status_code == 200
        wrong = post_form(
            client, urls.account_password(), token, current_password="nope", password="x" * 12
        )
        assert wrong.status_code == 422
        assert "current password" in one(wrong.text, "[role=alert]").get_text().lower()
        changed = post_form(
            client, urls.account_password(), token, current_password=PASSWORD, password="y" * 12
        )
        assert changed.status_code == 303
        assert laptop.get("/api/me").status_code == 401
        assert client.get("/api/me").status_code == 200
    assert client.post("/api/tokens", json={"email": "bob@example.org", "password": "y" * 12})


def test_account_forms_need_csrf_and_ids_of_others_are_404(client: TestClient) -> None:
    signed_in_browser(client, "cy@example.org")
    for url in (urls.account_password(), urls.account_tokens()):
        assert post_form(client, url, None, name="x").status_code == 403
    token = csrf_token(client, urls.account())
    with TestClient(client.app) as other:
        signed_in_browser(other, "dee@example.org")
        other_token = csrf_token(other, urls.account())
        made = post_form(other, urls.account_tokens(), other_token, name="theirs")
        revoke = str(one(other.get(urls.account()).text, ".tokens form")["action"])
        assert made.status_code == 201
    assert post_form(client, revoke, token).status_code == 404
    assert post_form(client, urls.revoke_session("nope"), token).status_code == 404
    with TestClient(client.app) as anonymous:
        assert anonymous.get(urls.account()).status_code == 401
