"""Helpers shared by the web tests: parse HTML, read a form's CSRF token, start and answer."""

from __future__ import annotations

from typing import Any

import httpx
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from app.decision.bank import BANK
from app.web.credentials import KEY_COOKIE_PREFIX
from app.web.presenters import urls

HTMX = {"HX-Request": "true"}
CSRF_FIELD = "csrf_token"


def parse(html: str) -> BeautifulSoup:
    """A page or fragment as a tree to query with CSS selectors."""
    return BeautifulSoup(html, "html.parser")


def one(html: str | Tag, selector: str) -> Tag:
    """The single element matching `selector`; fails when there is none."""
    tree = parse(html) if isinstance(html, str) else html
    found = tree.select_one(selector)
    assert found is not None, f"nothing matches {selector!r}"
    return found


def title(html: str) -> str:
    """The text of the page's (or fragment's) <title>."""
    return one(html, "title").get_text()


def hrefs(html: str | Tag, selector: str = "a[href]") -> list[str]:
    """The href of every element matching `selector`, in document order."""
    tree = parse(html) if isinstance(html, str) else html
    return [str(a["href"]) for a in tree.select(selector)]


def csrf_token(client: TestClient, path: str = "/") -> str:
    """The CSRF token in the first form of the page at `path` (the client keeps its cookie)."""
    return str(one(client.get(path).text, f'input[name="{CSRF_FIELD}"]')["value"])


def post_form(client: TestClient, url: str, token: str | None, **fields: Any) -> httpx.Response:
    """Post a form as a browser with JavaScript off would, with its CSRF token; no redirects."""
    data = {CSRF_FIELD: token, **fields} if token is not None else fields
    return client.post(url, data=data, follow_redirects=False)


def start_assessment(client: TestClient) -> tuple[str, str, str]:
    """Start an assessment from the start page: its id, the first step's URL, the CSRF token."""
    start_form = one(client.get(urls.home()).text, "form[method=post]")
    token = str(one(start_form, f'input[name="{CSRF_FIELD}"]')["value"])
    response = post_form(client, str(start_form["action"]), token)
    assert response.status_code == 303
    assessment_id = response.headers["location"].split("/")[2]
    # The start leads to the first screen; the per-question step URLs answer as before.
    return assessment_id, urls.step(assessment_id, BANK.questions[0].id), token


def first_value(question_id: str) -> str:
    """The form value of a question's first listed option."""
    value = BANK.get(question_id).options[0].value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def new_assessment(client: TestClient, **body: Any) -> dict[str, Any]:
    """Create an assessment through the API and keep its edit key in the client's cookies."""
    response = client.post("/api/assessments", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    hold_key(client, created["id"], created["edit_key"])
    return created


def hold_key(client: TestClient, assessment_id: str, edit_key: str) -> None:
    """Keep an edit key in the client's cookies, as a browser that created it would."""
    client.cookies.set(KEY_COOKIE_PREFIX + assessment_id, edit_key)


def bearer(edit_key: str) -> dict[str, str]:
    """The header an API client sends its edit key in."""
    return {"Authorization": f"Bearer {edit_key}"}


def expire(client: TestClient, token: str) -> None:
    """Move a share link's expiry into the past, as if its days had run out."""
    from datetime import timedelta

    from sqlalchemy import update

    from app.models import ShareLink, secret_hash, utcnow

    with client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(
            update(ShareLink)
            .where(ShareLink.token_hash == secret_hash(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def signed_in_browser(client: TestClient, email: str, password: str = "browser password") -> str:
    """An account, and this client signed in to it by a session cookie; the user's id."""
    from sqlalchemy.orm import Session

    from app.services import accounts

    made = client.post("/api/users", json={"email": email, "password": password})
    assert made.status_code == 201, made.text
    user_id: str = made.json()["id"]
    with Session(client.app.state.engine) as session, session.begin():  # type: ignore[attr-defined]
        cookie = accounts.start_session(session=session, user_id=user_id, user_agent="test")
    client.cookies.set("advisor_session", cookie)
    return user_id


def api_token(client: TestClient, email: str, password: str = "browser password") -> dict[str, str]:
    """The header of a new personal API token for an existing account."""
    made = client.post("/api/tokens", json={"email": email, "password": password})
    assert made.status_code == 201, made.text
    return bearer(made.json()["token"])
