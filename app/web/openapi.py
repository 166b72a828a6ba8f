"""The OpenAPI document, completed with the answers every route can give besides its own.

Routes declare their own statuses (404, 409, ...); what the middleware and the database
layer may answer on any route is added here once, so the schema lists every status a client
can meet and a new route cannot forget them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.web.middleware.content_type import RAW_BODY_PATHS

_ERROR = {"$ref": "#/components/schemas/ErrorBody"}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
_BUSY = {
    "description": "Busy: too many requests in flight, or the database did not answer in time. "
    "Nothing was changed; retry after Retry-After.",
    "headers": _RETRY_AFTER,
    "content": {"application/json": {"schema": _ERROR}},
}
_TOO_LARGE = {
    "description": "The body is over the size limit.",
    "content": {"application/json": {"schema": _ERROR}},
}
_NOT_JSON = {
    "description": "The body is not JSON: send Content-Type: application/json.",
    "content": {"application/json": {"schema": _ERROR}},
}


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the statuses any route may answer to each operation of the schema."""
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if path != "/healthz":
                responses.setdefault("503", _BUSY)
            if "requestBody" in operation:
                responses.setdefault("413", _TOO_LARGE)
                if path.startswith("/api/") and path not in RAW_BODY_PATHS:
                    responses.setdefault("415", _NOT_JSON)
    return schema


def install(app: FastAPI) -> None:
    """Serve the completed schema at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
