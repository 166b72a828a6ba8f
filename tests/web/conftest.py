"""Helpers shared by the web tests: parse HTML, read a form's CSRF token, start and answer."""

from __future__ import annotations

from typing import Any

import httpx
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient

from app.decision.bank import BANK
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
    step = response.headers["location"]
    return step.split("/")[2], step, token


def first_value(question_id: str) -> str:
    """The form value of a question's first listed option."""
    value = BANK.get(question_id).options[0].value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
