"""Pure ASGI middleware: text with a NUL character (U+0000) is refused with a 422 naming where.

PostgreSQL cannot store NUL in text, so such a value became a 500 there (and a string no
one could type, on SQLite). Checked once for every route: the path and query, and request
bodies (read whole, up to the app's body limit, then handed on unchanged). A body is parsed
to find the field only when its bytes hold a NUL or an escape of one. Multipart bodies (the
dataset uploads) are left to their route: a file may hold any bytes and is never stored as text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.errors import error_body
from app.web.middleware.content_type import RAW_BODY_PATHS, WITH_BODY

_MESSAGE = "may not contain the NUL character (U+0000)"
_MARKERS = (b"\x00", b"\\u0000", b"%00")


def _field_in_json(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a NUL."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return here
            found = _field_in_json(item, here)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _field_in_json(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def _field_in_pairs(text: str) -> str | None:
    for key, value in parse_qsl(text, keep_blank_values=True):
        if "\x00" in key or "\x00" in value:
            return key
    return None


def nul_field(scope: Scope, body: bytes) -> str | None:
    """Where the request carries a NUL: a field name, "path", "query" or "body"; else None."""
    if b"%00" in scope.get("raw_path", b"") or "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return _field_in_pairs(query.decode("latin-1")) or "query"
    if not any(marker in body for marker in _MARKERS):
        return None
    if body.lstrip()[:1] in (b"{", b"[", b'"'):
        try:
            return _field_in_json(json.loads(body))
        except ValueError:
            pass  # not JSON after all: the route refuses it on its own, or it is a form
    if b"%00" in body:
        return _field_in_pairs(body.decode("latin-1")) or "body"
    return "body" if b"\x00" in body else None


class RefuseNul:
    """Answer 422 to a request whose path, query or body holds a NUL character."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        # Past this the app answers 413 anyway: stop reading, and hand on what was read.
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        if (
            scope["method"] in WITH_BODY
            and scope["path"] not in RAW_BODY_PATHS
            and not _is_multipart(scope)  # file uploads may hold any bytes; never stored as text
        ):
            chunks: list[bytes] = []
            size, more = 0, True
            while more and size <= self.max_body_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    break  # the client left: let the app see it
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                more = message.get("more_body", False)
            body = b"".join(chunks)
            receive = _replay(body, more, receive)
            if more:
                body = b""  # too large to be text a route stores: the app's limit decides
        field = nul_field(scope, body)
        if field is None:
            await self.app(scope, receive, send)
            return
        await _refuse(scope, send, field)


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.lower().startswith(b"multipart/")
    return False


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """A receive that gives the body read already, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


async def _refuse(scope: Scope, send: Send, field: str) -> None:
    if scope["path"].startswith("/api/"):
        payload = json.dumps(error_body(field, _MESSAGE, kind="nul_character")).encode()
        kind = b"application/json"
    else:
        payload = f"{field} {_MESSAGE}.\n".encode()
        kind = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", kind), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
