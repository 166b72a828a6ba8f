"""Load shedding: past the limit, a quick 503 with Retry-After; health is always admitted."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.web.errors import ErrorBody
from app.web.middleware.load_shedding import RETRY_AFTER_S, LoadShedding


async def _ok(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def _client(limit: int) -> TestClient:
    """An app behind the middleware that admits `limit` requests at once."""
    routes = [Route(path, _ok) for path in ("/healthz", "/api/recommend", "/recipes")]
    return TestClient(LoadShedding(Starlette(routes=routes), limit=limit))


def test_requests_within_the_limit_are_served() -> None:
    assert _client(limit=1).get("/api/recommend").text == "ok"


def test_the_api_gets_the_error_body_when_shed() -> None:
    response = _client(limit=0).get("/api/recommend")
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(RETRY_AFTER_S)
    [problem] = ErrorBody.model_validate(response.json()).detail
    assert problem.type == "busy" and "retry" in problem.message


def test_pages_get_plain_text_and_health_is_always_admitted() -> None:
    client = _client(limit=0)
    page = client.get("/recipes")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/plain")
    assert client.get("/healthz").text == "ok"
