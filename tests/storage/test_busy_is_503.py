"""A database that cannot serve in time answers 503 with Retry-After, and nothing half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.web.conftest import new_assessment


class _CsrfField(HTMLParser):
    """Finds the value of the form's csrf_token field."""

    token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token":
            self.token = found.get("value")


def _csrf(client: TestClient, path: str) -> str:
    parser = _CsrfField()
    parser.feed(client.get(path).text)
    assert parser.token
    return parser.token


@pytest.fixture
def busy_client(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """An app whose writers give up on a lock after 100 ms and whose pool has one connection."""
    settings = Settings(
        database_url=sqlite_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        sqlite_busy_timeout_ms=100,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_s=0.2,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _hold_write_lock(sqlite_url: str) -> sqlite3.Connection:
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_lock_past_the_busy_timeout_is_a_503_and_stores_nothing(
    busy_client: TestClient, sqlite_url: str
) -> None:
    created = new_assessment(busy_client)["id"]
    token = _csrf(busy_client, f"/assessments/{created}/steps/gap")
    holder = _hold_write_lock(sqlite_url)
    try:
        api = busy_client.put(f"/api/assessments/{created}/answers/gap", json={"value": "both"})
        page = busy_client.post(
            f"/assessments/{created}/steps/gap",
            data={"value": "both", "csrf_token": token},
            follow_redirects=False,
        )
    finally:
        holder.rollback()
        holder.close()
    assert api.status_code == 503 and api.headers["retry-after"] == "1"
    assert "retry" in api.text and "Traceback" not in api.text
    assert page.status_code == 503 and page.headers["retry-after"] == "1"
    assert page.headers["content-type"].startswith("text/html")
    assert "Traceback" not in page.text and "sqlite3" not in page.text
    assert busy_client.get(f"/api/assessments/{created}/history").json() == []
    # The lock is gone: the same request now succeeds, without restarting anything.
    again = busy_client.put(f"/api/assessments/{created}/answers/gap", json={"value": "both"})
    assert again.status_code == 200 and again.json()["answers"] == {"gap": "both"}


def test_an_exhausted_pool_is_a_503_not_a_hang(busy_client: TestClient) -> None:
    created = new_assessment(busy_client)["id"]
    engine = busy_client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect():  # the pool's only connection, held elsewhere
        response = busy_client.get(f"/api/assessments/{created}")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert busy_client.get(f"/api/assessments/{created}").status_code == 200


def test_a_refused_answer_does_not_wait_for_the_write_lock(
    busy_client: TestClient, sqlite_url: str
) -> None:
    """Nothing is stored, so the 422 re-render reads without taking (or waiting for) the lock."""
    created = new_assessment(busy_client)["id"]
    token = _csrf(busy_client, f"/assessments/{created}/steps/gap")
    holder = _hold_write_lock(sqlite_url)
    try:
        page = busy_client.post(
            f"/assessments/{created}/steps/gap",
            data={"value": "not-an-option", "csrf_token": token},
            follow_redirects=False,
        )
    finally:
        holder.rollback()
        holder.close()
    assert page.status_code == 422
