"""Pure ASGI middleware: answer 503 with Retry-After once too many requests are in flight.

A burst beyond what the thread pool and the database can serve in time would otherwise queue
without bound; a quick, honest 503 lets clients retry while the requests already admitted
finish. Health checks are always admitted.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.errors import error_body

RETRY_AFTER_S = 1
_ALWAYS_ADMITTED = ("/healthz",)
_BUSY_JSON = json.dumps(
    error_body("request", "the server is busy; retry shortly", kind="busy"),
    separators=(",", ":"),
).encode()


class LoadShedding:
    """Admit at most `limit` HTTP requests at once; shed the rest with 503."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _ALWAYS_ADMITTED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await _shed(scope, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def _shed(scope: Scope, send: Send) -> None:
    """A short 503: JSON for the API, plain text for everything else."""
    if scope["path"].startswith("/api"):
        body, kind = _BUSY_JSON, b"application/json"
    else:
        body, kind = b"The server is busy; retry in a moment.\n", b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
