"""Pure ASGI middleware: security headers on every response.

A route may set a stricter `Referrer-Policy` itself (`no-referrer` on pages whose address
carries a secret); the middleware then leaves it alone.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


# Sent only when cookies are Secure, i.e. the site is served over HTTPS: a browser then
# refuses plain HTTP to it for a year. Over plain HTTP (the loopback default) it would lock
# users out.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    """Adds the CSP and friends to every HTTP response."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.always = [*SECURITY_HEADERS, HSTS] if hsts else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if any(name.lower() == b"referrer-policy" for name, _ in headers):
                    headers += [h for h in self.always if h[0] != b"referrer-policy"]
                else:
                    headers += self.always
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
