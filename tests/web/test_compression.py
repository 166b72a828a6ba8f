"""Gzip: text bodies compressed for clients that ask, whole or streamed; others left alone."""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from app.settings import PROJECT_ROOT

GZIP = {"accept-encoding": "gzip, deflate, br"}
IDENTITY = {"accept-encoding": "identity"}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Compression does not depend on the database."""
    return sqlite_url


def _raw(client: TestClient, path: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Headers and the bytes on the wire, before any decoding."""
    with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, path
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_page_is_gzipped_only_for_clients_that_accept_it(client: TestClient) -> None:
    plain_headers, plain = _raw(client, "/", IDENTITY)
    headers, wire = _raw(client, "/", GZIP)
    assert "content-encoding" not in plain_headers
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"] and "HX-Request" in headers["vary"]
    assert int(headers["content-length"]) == len(wire) < len(plain) * 0.75
    assert gzip.decompress(wire) == plain


def test_a_streamed_static_file_is_gzipped_whole(client: TestClient) -> None:
    source = (PROJECT_ROOT / "static" / "app.css").read_bytes()
    headers, wire = _raw(client, "/static/app.css", GZIP)
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(wire) == source
    assert headers.get("content-length") in (None, str(len(wire)))
    assert "content-encoding" not in _raw(client, "/static/app.css", IDENTITY)[0]


def test_small_and_partial_responses_are_left_alone(client: TestClient) -> None:
    headers, body = _raw(client, "/healthz", GZIP)
    assert "content-encoding" not in headers and body.startswith(b"{")
    with client.stream(
        "GET", "/static/app.css", headers={**GZIP, "range": "bytes=0-99"}
    ) as partial:
        assert partial.status_code == 206
        assert "content-encoding" not in partial.headers
        assert len(b"".join(partial.iter_raw())) == 100
