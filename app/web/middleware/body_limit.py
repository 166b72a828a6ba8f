"""Pure ASGI middleware: a body over its limit is a 413 in the app's own words.

Starlette's limiter (FastAPI's `max_body_size`) answers a bare `Content Too Large` in plain
text, and replaces any answer of the app once the declared length is over the limit, so the
413 could carry neither the JSON error body the schema declares nor the HTML error page. This
one refuses a declared length over the limit before the app runs (nothing is read, nothing
stored), and a body that turns out longer than declared or than the limit while it is read
(chunked, or a lying Content-Length) by failing the read, then answering the same 413.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TooLargeResponder = Callable[[Request, int], Awaitable[Response]]


class BodyTooLarge(Exception):
    """Raised from `receive` once the body read so far is over the limit."""


class BodyLimit:
    """At most `limit` body bytes per request, or a route's own larger limit (uploads)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        respond: TooLargeResponder,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.respond = respond
        self.larger = tuple(larger)

    def limit_for(self, path: str) -> int:
        """The limit of the path: an upload route's own, else the app-wide one."""
        return next((size for pattern, size in self.larger if pattern.fullmatch(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, limit)
            return
        read = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BaseException as exc:
            if started or not _is_too_large(exc):
                raise
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = await self.respond(Request(scope, receive), limit)
        await response(scope, receive, send)


def _is_too_large(exc: BaseException) -> bool:
    """The limit's own exception, alone or as the only kind in a task group's exceptions."""
    if isinstance(exc, BodyTooLarge):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_too_large(inner) for inner in exc.exceptions)
    return False


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent or not a number (read and counted then)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
