"""Every route that takes a body, walked from the app's route table: one byte over its limit
is a 413 in the app's words (the JSON error body for the API, the error page for a browser)
and nothing is stored. Uploads have their own, larger limit (app/web/uploads.py).

And every path parameter, walked the same way, refuses traversal (`..%2f`, an encoded NUL,
an absolute path): never a 5xx, never a file from outside its folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from app.main import create_app
from app.models.base import Base
from app.settings import Settings
from app.web.uploads import MAX_UPLOAD_BODY_BYTES, MAX_UPLOAD_BYTES, UPLOAD_LIMITS
from tests.web.conftest import csrf_token, start_assessment
from tests.web.test_access_sweep import _routes

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")
CANARY = "canary-QTR-5519 outside every folder"
TRAVERSALS = (
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fcanary.txt",
    "..%5c..%5ccanary.txt",
    "%2e%2e",
    "%2Fetc%2Fpasswd",
    "%00",
    "x%00.json",
    "..%00%2Fcanary.txt",
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


def _body_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route that reads a body."""
    calls = []
    for path, route in _routes(app.routes):
        for method in sorted((getattr(route, "methods", None) or set()) & BODY_METHODS):
            calls.append((method, path))
    return calls


def _filled(path: str, value: str = "x") -> str:
    return PARAM.sub(value, path)


def _limit(settings: Settings, path: str) -> int:
    for pattern, size in UPLOAD_LIMITS:
        if pattern.fullmatch(path):
            return size
    return settings.max_body_bytes


def _rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.exists() else set()


def _assert_refused(response: httpx.Response, path: str, limit: int) -> None:
    where = f"{path}: {response.status_code} {response.text[:200]!r}"
    assert response.status_code == 413, where
    if path.startswith("/api"):
        assert response.headers["content-type"] == "application/json", where
        (item,) = response.json()["detail"]
        assert item["field"] == "body" and item["type"] == "too_large", where
        assert f"{limit:,}-byte limit" in item["message"], where
    else:
        assert response.headers["content-type"].startswith("text/html"), where
        assert "<title>Too large" in response.text and f"{limit:,}-byte limit" in response.text
    # The answer is the app's own: it carries the security headers too.
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"], where


def test_one_byte_over_the_limit_is_refused_on_every_body_route(
    app: FastAPI, settings: Settings
) -> None:
    calls = _body_routes(app)
    assert len(calls) > 40, calls  # the walk found the app's routes
    before, files_before = _rows(settings.database_url), _files(settings.data_dir)
    with TestClient(app) as client:
        _, _, token = start_assessment(client)  # a real session and CSRF token
        before = _rows(settings.database_url)
        for method, template in calls:
            path = _filled(template)
            limit = _limit(settings, path)
            if path.startswith("/api") and "dataset-check" not in path:
                body = b'{"title": "' + b"x" * (limit - 12) + b'"}'
                headers = {"content-type": "application/json"}
            else:
                body = b"csrf_token=" + token.encode() + b"&title=" + b"x" * limit
                headers = {"content-type": "application/x-www-form-urlencoded"}
            assert len(body) > limit
            response = client.request(method, path, content=body, headers=headers)
            _assert_refused(response, path, limit)
    assert _rows(settings.database_url) == before
    assert _files(settings.data_dir) == files_before


def test_a_body_longer_than_declared_or_chunked_is_refused_as_it_is_read(
    app: FastAPI, settings: Settings
) -> None:
    """No Content-Length (chunked): the limit counts what is read; a real answer with a valid
    session and token, one byte over, stores nothing."""
    with TestClient(app) as client:
        _, step_url, token = start_assessment(client)
        before = _rows(settings.database_url)
        filler = b"x" * settings.max_body_bytes

        def chunks() -> Iterator[bytes]:
            yield b"csrf_token=" + token.encode() + b"&value=rag&title="
            yield filler

        response = client.post(
            step_url,
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        _assert_refused(response, step_url, settings.max_body_bytes)

        def json_chunks() -> Iterator[bytes]:
            yield b'{"title": "'
            yield filler
            yield b'"}'

        api = client.post(
            "/api/assessments", content=json_chunks(), headers={"content-type": "application/json"}
        )
        _assert_refused(api, "/api/assessments", settings.max_body_bytes)
        assert _rows(settings.database_url) == before
        # Under the limit the same route still works.
        ok = client.post(step_url, data={"csrf_token": token, "value": "rag"})
        assert ok.status_code < 500


def test_uploads_have_their_own_limit(app: FastAPI, settings: Settings) -> None:
    """An upload between the app-wide limit and its own goes through to the route (which has
    its own 413 for a file over MAX_UPLOAD_BYTES); past its own it is the middleware's 413."""
    assert MAX_UPLOAD_BODY_BYTES > MAX_UPLOAD_BYTES > settings.max_body_bytes
    with TestClient(app) as client:
        turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
        line = json.dumps({"messages": turns}).encode() + b"\n"
        data = line * (2 * settings.max_body_bytes // len(line))
        fine = client.post("/api/recipes/dataset-check?method=sft", content=data)
        assert fine.status_code == 200, fine.text[:300]
        over = b"x" * (MAX_UPLOAD_BODY_BYTES + 1)
        refused = client.post("/api/recipes/dataset-check?method=sft", content=over)
        _assert_refused(refused, "/api/recipes/dataset-check", MAX_UPLOAD_BODY_BYTES)
        page = client.post(
            "/recipes/sft-lora/dataset-check",
            files={"file": ("big.jsonl", over, "application/jsonl")},
            data={"csrf_token": csrf_token(client, "/recipes/sft-lora")},
        )
        _assert_refused(page, "/recipes/sft-lora/dataset-check", MAX_UPLOAD_BODY_BYTES)


def test_every_route_with_its_own_limit_is_an_upload_route(app: FastAPI) -> None:
    """A route given its own `max_body_size` must be listed in UPLOAD_LIMITS with the same
    limit, or the middleware would refuse its bodies at the app-wide one."""
    own = [
        (p, r.max_body_size) for p, r in _routes(app.routes) if getattr(r, "max_body_size", None)
    ]
    assert own, "no upload route found"
    for path, size in own:
        assert _limit(Settings(), _filled(path)) == size, path


def _fillings(path: str) -> Iterator[str]:
    """The path with each of its parameters in turn set to each traversal."""
    params = PARAM.findall(path)
    for name in params:
        for attack in TRAVERSALS:
            filled = path
            for other in params:
                filled = re.sub(
                    "{" + other + r"(?::[^}]+)?}", attack if other == name else "x", filled
                )
            yield filled


def test_no_path_parameter_reaches_outside_its_folder(
    app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "canary.txt").write_text(CANARY)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    calls = [
        (method, path)
        for path, route in _routes(app.routes)
        for method in sorted((getattr(route, "methods", None) or {"GET"}) - {"HEAD"})
        if PARAM.search(path)
    ]
    calls += [("GET", "/static/{name}")]
    assert len(calls) > 40
    seen: dict[int, int] = {}
    with TestClient(app) as client:
        _, _, token = start_assessment(client)
        for method, template in calls:
            for url in _fillings(template):
                kwargs: dict[str, object] = {}
                if method in BODY_METHODS:
                    kwargs = (
                        {"data": {"csrf_token": token}}
                        if not url.startswith("/api")
                        else {"json": {}}
                    )
                response = client.request(method, url, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
                where = f"{method} {url}: {response.status_code} {response.text[:200]!r}"
                assert response.status_code < 500, where
                assert response.status_code not in (200, 201, 204), where
                assert CANARY not in response.text and "root:x:0:0" not in response.text, where
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
    # Most are plain 404s / 422s; the rest are refused before any lookup (sign-in, CSRF, role).
    assert set(seen) <= {303, 401, 403, 404, 405, 409, 415, 422}, seen
