"""Security headers on every response."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.web.test_access_sweep import _routes as every_route


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Headers do not depend on the database."""
    return sqlite_url


@pytest.mark.parametrize("path", ["/healthz", "/", "/recipes", "/api/recipes", "/nowhere"])
def test_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def _every_get_path(app: FastAPI) -> list[str]:
    """One URL per GET route of the app, path parameters filled with a value nobody owns."""
    gets = [path for path, route in every_route(app.routes) if "GET" in (route.methods or ())]
    assert len(gets) > 20
    return [re.sub(r"\{[^}]+\}", "nobody", path) for path in gets]


def _check(response: httpx.Response, *, hsts: bool) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert ("strict-transport-security" in headers) is hsts
    for cookie in response.headers.get_list("set-cookie"):
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=lax" in lowered, cookie
        assert ("; secure" in lowered) is hsts, cookie


@pytest.mark.parametrize("secure", [False, True])
def test_every_route_sends_the_headers_even_when_it_fails(sqlite_url: str, secure: bool) -> None:
    """Every GET route (pages, JSON, static, errors), plus the error answers a POST can get;
    HSTS and Secure cookies exactly when the site says it is served over HTTPS."""
    app = create_app(Settings(database_url=sqlite_url, secure_cookies=secure))
    base = "https://testserver" if secure else "http://testserver"
    with TestClient(app, base_url=base) as client:
        responses = [client.get(path) for path in _every_get_path(app)]
        responses += [
            client.get("/static/style.css"),
            client.post("/api/recommend", content=b"x", headers={"content-type": "text/plain"}),
            client.post("/api/recommend", json={"gap": "nope"}),
            client.delete("/api/recommend"),
            client.post("/start", data={}),
        ]
        statuses = {r.status_code for r in responses}
        assert {200, 404, 405, 415, 422} <= statuses, statuses
        for response in responses:
            _check(response, hsts=secure)
        assert any(r.headers.get_list("set-cookie") for r in responses), "no cookie was checked"
