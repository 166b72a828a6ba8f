"""Security headers on every response."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


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
