"""One error body for every 404 and 422 under /api, and the 404 page for browsers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.web.errors import ErrorBody
from app.web.presenters import urls
from tests.web.conftest import one


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Error bodies do not depend on the database."""
    return sqlite_url


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("GET", "/api/assessments/nope", None, 404, "not_found"),
        ("GET", "/api/no-such-thing", None, 404, "not_found"),
        ("POST", "/api/recommend", {"gap": "knowlege"}, 422, "literal_error"),
        ("POST", "/api/recommend", {"colour": "blue"}, 422, "extra_forbidden"),
        ("POST", "/api/assessments", {"titel": "x"}, 422, "extra_forbidden"),
        ("POST", "/api/assessments", {"answers": {"gap": "x"}}, 422, "answer_error"),
        ("GET", "/api/recipes/nope", None, 422, "unknown_recipe"),
        ("DELETE", "/api/recommend", None, 405, "method_not_allowed"),
    ],
)
def test_api_errors_share_one_body(
    client: TestClient, method: str, path: str, body: object, status: int, kind: str
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status
    parsed = ErrorBody.model_validate(response.json())
    assert set(response.json()) == {"detail"}
    assert [item.type for item in parsed.detail] == [kind]
    assert parsed.detail[0].message


def test_a_method_not_allowed_keeps_its_allow_header(client: TestClient) -> None:
    assert "POST" in client.delete("/api/recommend").headers["allow"]


def test_allow_names_every_method_of_the_path(client: TestClient) -> None:
    """GET, PATCH and DELETE of one assessment are three routes; a 405 names all of them."""
    response = client.request("OPTIONS", "/api/assessments/some-id")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert response.json()["detail"][0]["allowed"] == ["DELETE", "GET", "PATCH"]


@pytest.mark.parametrize("path", ["/no-such-page", urls.review("nope"), urls.recipe("nope")])
def test_browsers_get_the_404_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert one(response.text, "h1").get_text() == "Not found"
    assert one(response.text, "main a")["href"] == urls.home()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_json_is_415(client: TestClient, content_type: str) -> None:
    """The API names the header to fix instead of failing the body's validation."""
    response = client.post(
        "/api/recommend", content=b'{"gap": "behavior"}', headers={"content-type": content_type}
    )
    assert response.status_code == 415
    item = ErrorBody.model_validate(response.json()).detail[0]
    assert (item.field, item.type, item.allowed) == (
        "content-type",
        "unsupported_media_type",
        ["application/json"],
    )
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("body", [b'{"gap": ', b"\xff\xfe\x0b4;no"])
def test_a_body_that_is_not_json_text_names_the_body(client: TestClient, body: bytes) -> None:
    """A syntax error, or bytes that are not even UTF-8: the same 422, never a 400."""
    response = client.post(
        "/api/recommend", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_the_schema_lists_the_statuses_any_route_may_answer(client: TestClient) -> None:
    """503 everywhere the load shedding or the database can answer it; 413 and 415 wherever
    a body is read."""
    paths = client.get("/openapi.json").json()["paths"]
    operations = [(p, o) for p, ops in paths.items() for o in ops.values()]
    assert len(operations) > 20
    for path, operation in operations:
        responses = operation["responses"]
        assert path == "/healthz" or "503" in responses, path
        if "requestBody" in operation:
            assert "413" in responses, path
            assert path == "/api/recipes/dataset-check" or "415" in responses, path
