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


@pytest.mark.parametrize("path", ["/no-such-page", urls.review("nope"), urls.recipe("nope")])
def test_browsers_get_the_404_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert one(response.text, "h1").get_text() == "Not found"
    assert one(response.text, "main a")["href"] == urls.home()
