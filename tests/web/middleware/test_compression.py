"""Gzip: text bodies compressed for clients that ask, whole or streamed; others left alone."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

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


def _streaming_app(media_type: str) -> TestClient:
    """An app behind the gzip middleware that streams three text chunks."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    from app.web.middleware.compression import Gzip

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(3):
            yield f"data: chunk {n} {'x' * 600}\n\n".encode()

    async def stream(_request: object) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type=media_type)

    return TestClient(Gzip(Starlette(routes=[Route("/stream", stream)]), minimum_size=500))


def test_an_event_stream_passes_through_uncompressed() -> None:
    client = _streaming_app("text/event-stream")
    with client.stream("GET", "/stream", headers=GZIP) as response:
        assert "content-encoding" not in response.headers
        parts = list(response.iter_raw())
    assert b"".join(parts).count(b"data: chunk") == 3


def test_each_streamed_chunk_is_flushed_whole() -> None:
    """Every compressed chunk decodes on its own: nothing waits for the end of the stream."""
    client = _streaming_app("text/plain")
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    seen = []
    with client.stream("GET", "/stream", headers=GZIP) as response:
        assert response.headers["content-encoding"] == "gzip"
        for part in response.iter_raw():
            seen.append(decoder.decompress(part))
    decoded = [text for text in seen if text]
    assert [t.split(b" ")[2] for t in decoded] == [b"0", b"1", b"2"]
