"""NUL characters anywhere in a request: a 422 naming where, nothing stored, on both databases."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from app.web.middleware.nul_guard import nul_field
from tests.web.conftest import start_assessment


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/api/assessments", {"title": "a\x00b"}, "title"),
        ("POST", "/api/users", {"email": "a\x00@example.org", "password": "p" * 12}, "email"),
        ("POST", "/api/recommend", {"gap": "know\x00ledge"}, "gap"),
        ("GET", "/api/recipes/sft-lora/estimate?epochs=1%00", None, "epochs"),
        ("GET", "/api/assessments/ab%00cd", None, "path"),
    ],
)
def test_the_api_names_where_the_nul_is(
    client: TestClient, method: str, path: str, body: object, field: str
) -> None:
    before = client.get("/healthz").status_code
    response = client.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0] == {
        "field": field,
        "message": "may not contain the NUL character (U+0000)",
        "allowed": None,
        "type": "nul_character",
    }
    assert before == 200


def test_nothing_is_stored_and_other_unicode_is_kept(client: TestClient) -> None:
    """RTL overrides and 4-byte emoji are text like any other; a NUL is refused before storing."""
    refused = client.post("/api/assessments", json={"title": "plan\x00"})
    assert refused.status_code == 422
    for title in ("\u202eevil plan", "plan 😀" * 10, "日本語のプラン"):
        created = client.post("/api/assessments", json={"title": title})
        assert created.status_code == 201, created.text
        assert created.json()["title"] == title


def test_a_form_with_a_nul_is_refused_in_words(client: TestClient) -> None:
    _, step, token = start_assessment(client)
    response = client.post(step, data={"csrf_token": token, "value": "behavior\x00"})
    assert response.status_code == 422
    assert response.text == "value may not contain the NUL character (U+0000).\n"


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_found_exactly_when_present(key: str, value: str) -> None:
    """In a JSON body and in a query, a NUL is found where it is and nowhere else."""
    has_nul = "\x00" in key + value
    body = json.dumps({key or "k": value}).encode()
    scope = {"path": "/api/x", "raw_path": b"/api/x", "query_string": b""}
    assert (nul_field(scope, body) is not None) == has_nul
    query = {
        "path": "/api/x",
        "raw_path": b"/api/x",
        "query_string": urlencode({key: value}).encode(),
    }
    assert (nul_field(query, b"") is not None) == has_nul


def test_a_body_over_the_limit_is_not_held_in_memory_but_refused_by_the_app(
    client: TestClient,
) -> None:
    """The guard reads at most the body limit, then hands the rest on: the app's 413 stands."""
    big = b'{"title": "' + b"x" * 1_200_000 + b'"}'
    response = client.post(
        "/api/assessments", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
