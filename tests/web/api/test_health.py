"""Health and the OpenAPI schema: the paths the API documents and its one error body."""

from __future__ import annotations

from fastapi.testclient import TestClient

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_lists_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/recommend",
        "/api/assessments",
        "/api/assessments/{assessment_id}",
        "/api/assessments/{assessment_id}/answers/{question_id}",
        "/api/assessments/{assessment_id}/history",
        "/api/assessments/{assessment_id}/complete",
        "/api/recipes",
        "/api/recipes/{recipe_id}",
        "/api/recipes/{recipe_id}/render",
        "/api/recipes/{recipe_id}/estimate",
        "/api/recipes/dataset-check",
        "/healthz",
    ):
        assert path in spec["paths"], path
    assert not any(path.startswith(("/assessments", "/recipes")) for path in spec["paths"])


def test_every_documented_error_has_the_one_error_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    documented = {
        (path, method, status): response["content"]["application/json"]["schema"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if status.startswith(("4", "5"))
    }
    assert documented, "no error responses documented"
    assert all(schema == ERROR_BODY for schema in documented.values()), documented
    statuses = {status for _, _, status in documented}
    assert {"404", "422"} <= statuses
    assert ("/api/assessments/{assessment_id}", "get", "404") in documented
    item = spec["components"]["schemas"]["ErrorItem"]
    assert set(item["properties"]) == {"field", "message", "allowed", "type"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
