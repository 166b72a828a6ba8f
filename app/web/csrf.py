"""CSRF protection for HTML forms: a random cookie, and its HMAC in each form."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

CSRF_COOKIE = "advisor_csrf"
CSRF_FIELD = "csrf_token"


class CsrfError(Exception):
    """A state-changing form arrived without a valid token."""


def _sign(secret_key: str, nonce: str) -> str:
    """The form token for a cookie nonce."""
    return hmac.new(secret_key.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token to put in forms; creates the cookie nonce on first use in this request."""
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(32)
        request.state.csrf_nonce = nonce
    return _sign(request.app.state.settings.secret_key, nonce)


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the nonce cookie if this request created one."""
    nonce = getattr(request.state, "csrf_nonce", None)
    if nonce:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.secure_cookies,
            max_age=60 * 60 * 24 * 90,
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    """Raise `CsrfError` unless the submitted token matches the cookie."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce or not submitted:
        raise CsrfError("the form is missing its security token; reload the page and try again")
    expected = _sign(request.app.state.settings.secret_key, nonce)
    if not hmac.compare_digest(expected, submitted):
        raise CsrfError("the form's security token does not match; reload the page and try again")
