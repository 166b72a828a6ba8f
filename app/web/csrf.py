"""CSRF protection for HTML forms: a random cookie, and its HMAC in each form."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache

from fastapi import Request, Response

CSRF_COOKIE = "advisor_csrf"
CSRF_FIELD = "csrf_token"


class CsrfError(Exception):
    """A state-changing form arrived without a valid token."""


# Where a request keeps the nonce it created, until the response sets its cookie.
_NEW_NONCE = "advisor.csrf_nonce"
# Where a request keeps the token it signed: a checked post that re-renders its form signs once.
_SIGNED = "advisor.csrf_signed"


# A nonce longer than ours (43 characters) is signed every time: the cache's size must not
# follow what a stranger puts in the cookie.
CACHED_NONCE_MAX = 64


def _sign(secret_key: str, nonce: str) -> str:
    """The form token for a cookie nonce."""
    if len(nonce) <= CACHED_NONCE_MAX:
        return _kept_signature(secret_key, nonce)
    return _signature(secret_key, nonce)


def _signature(secret_key: str, nonce: str) -> str:
    """HMAC-SHA256 of the nonce, hex."""
    return hmac.digest(secret_key.encode(), nonce.encode(), hashlib.sha256).hex()


@lru_cache(maxsize=4096)
def _kept_signature(secret_key: str, nonce: str) -> str:
    """`_signature`, kept: a browser sends the same nonce with every page and post."""
    return _signature(secret_key, nonce)


def _signed(request: Request, nonce: str) -> str:
    """The form token for `nonce`, signed at most once per request."""
    signed: tuple[str, str] | None = request.scope.get(_SIGNED)
    if signed is None or signed[0] != nonce:
        token = _sign(request.app.state.settings.secret_key, nonce)
        signed = request.scope[_SIGNED] = (nonce, token)
    return signed[1]


def csrf_token(request: Request) -> str:
    """The token to put in forms; creates the cookie nonce on first use in this request."""
    nonce = request.cookies.get(CSRF_COOKIE) or request.scope.get(_NEW_NONCE)
    if not nonce:
        nonce = request.scope[_NEW_NONCE] = secrets.token_urlsafe(32)
    return _signed(request, nonce)


def set_csrf_cookie(request: Request, response: Response) -> None:
    """Send the nonce cookie if this request created one."""
    nonce = request.scope.get(_NEW_NONCE)
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
    expected = _signed(request, nonce)
    if not hmac.compare_digest(expected, submitted):
        raise CsrfError("the form's security token does not match; reload the page and try again")
