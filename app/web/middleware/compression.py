"""Pure ASGI gzip for text responses, free for clients that do not ask for it.

Starlette's GZipMiddleware parses and rewrites the headers of every response, compressed or
not: about 35 us of the step page's ~350 us. This one steps aside unless the request accepts
gzip, and compresses whole bodies (pages) and streamed ones (static files) alike, flushing
each streamed chunk; event streams (job status) pass through untouched (docs/adr/0005).
"""

from __future__ import annotations

import gzip
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSIBLE = (b"text/", b"application/json", b"application/javascript", b"image/svg+xml")
# Event streams (job status) are read as they arrive; compressing them gains little.
_STREAMS = (b"text/event-stream",)
# Responses whose encoding is already settled, or that carry a part of a resource.
_LEAVE_ALONE = (b"content-encoding", b"content-range")
_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream


class Gzip:
    """Compress text bodies of at least `minimum_size` bytes for clients that accept gzip."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = 500, level: int = 6) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        response = _Response(send, minimum_size=self.minimum_size, level=self.level)
        await self.app(scope, receive, response.send)


def _accepts_gzip(scope: Scope) -> bool:
    """Whether the request's Accept-Encoding names gzip."""
    return any(
        name == b"accept-encoding" and b"gzip" in value.lower() for name, value in scope["headers"]
    )


class _Response:
    """One response on its way out; its start is held until the first body shows its size."""

    def __init__(self, send: Send, *, minimum_size: int, level: int) -> None:
        self._send = send
        self._minimum_size = minimum_size
        self._level = level
        self._held: Message | None = None
        self._compressor: zlib._Compress | None = None

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if _compressible(message):
                self._held = message
            else:
                await self._send(message)
            return
        if kind != "http.response.body" or (self._held is None and self._compressor is None):
            await self._flush_held()
            await self._send(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self._compressor is None:
            start, self._held = self._held, None
            assert start is not None
            if not more:
                # Whole body at once: compress it all and say how long it is.
                if len(body) < self._minimum_size:
                    await self._send(start)
                    await self._send(message)
                    return
                data = gzip.compress(body, compresslevel=self._level, mtime=0)
                await self._send(_encoded(start, length=len(data)))
                await self._send({"type": "http.response.body", "body": data})
                return
            self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, _GZIP_WINDOW)
            await self._send(_encoded(start, length=None))
        # Each chunk leaves whole (a sync flush): a streamed body is never held back.
        data = self._compressor.compress(body)
        data += self._compressor.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def _flush_held(self) -> None:
        """Send a held start unchanged (the body came another way, e.g. as a file path)."""
        if self._held is not None:
            start, self._held = self._held, None
            await self._send(start)


def _compressible(start: Message) -> bool:
    """A text response that is neither encoded already nor partial."""
    if start["status"] < 200 or start["status"] in (204, 304):
        return False
    headers = start.get("headers", [])
    content_type = next((v for k, v in headers if k == b"content-type"), b"")
    if content_type.startswith(_STREAMS):
        return False
    return content_type.startswith(COMPRESSIBLE) and not any(k in _LEAVE_ALONE for k, _ in headers)


def _encoded(start: Message, *, length: int | None) -> Message:
    """The start message for a gzipped body of `length` bytes (None: streamed, unknown)."""
    headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
    headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {**start, "headers": headers}
