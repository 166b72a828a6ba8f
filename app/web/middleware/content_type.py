"""Pure ASGI middleware: the JSON API takes JSON bodies only; anything else is a 415.

Without it, a form or XML body reached the model and came back as a puzzling 422 ("Input
should be a valid dictionary"); a 415 names the header to fix and the type to send.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.errors import error_body

# Routes that read their body themselves (a dataset upload may be JSONL sent as text).
RAW_BODY_PATHS = frozenset({"/api/recipes/dataset-check"})
# Methods whose requests carry a body the middlewares look at.
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_UNSUPPORTED = json.dumps(
    error_body(
        "content-type",
        "the API reads JSON bodies: send Content-Type: application/json",
        kind="unsupported_media_type",
        allowed=["application/json"],
    ),
    separators=(",", ":"),
).encode()


def is_json(content_type: str) -> bool:
    """application/json, or a structured +json type, whatever its parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class JsonBodiesOnly:
    """Answer 415 to an API request carrying a body that is not JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in WITH_BODY
            and scope["path"].startswith("/api/")
            and scope["path"] not in RAW_BODY_PATHS
        ):
            headers = dict(scope["headers"])
            has_body = (
                headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers
            )
            if has_body and not is_json(headers.get(b"content-type", b"").decode("latin-1")):
                await _refuse(send)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 415,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(_UNSUPPORTED)).encode()),
                (b"accept", b"application/json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _UNSUPPORTED})
