"""What a request carries to prove access, read in one place, and the edit-key cookies.

`caller(request)` is the only function that turns a request into a `Caller` (docs/adr/0003).
A browser holds one cookie per assessment, `advisor_key_<id>` (docs/adr/0006): opening
someone else's private link adds a cookie and never replaces another, two tabs cannot
overwrite each other's keys, and the hot step routes find their key with one dictionary look-up.
"""

from __future__ import annotations

from fastapi import Request, Response

from app.services.access import Caller

KEY_COOKIE_PREFIX = "advisor_key_"
SESSION_COOKIE = "advisor_session"
MAX_KEY_COOKIES = 40  # about 3.4 KB of cookies; the oldest go first
KEY_MAX_AGE_S = 60 * 60 * 24 * 400  # the longest a browser keeps a cookie (Chromium's cap)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


def caller(request: Request) -> Caller:
    """The request's credentials: edit keys and the session from its cookies, and an
    `Authorization` bearer (an edit key or a personal API token)."""
    keys = {
        name[len(KEY_COOKIE_PREFIX) :]: value
        for name, value in request.cookies.items()
        if name.startswith(KEY_COOKIE_PREFIX)
    }
    session_token = request.cookies.get(SESSION_COOKIE) or None
    if (keys or session_token) and not _cookies_count(request):
        keys, session_token = {}, None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return Caller(keys, bearer, session_token)


def offering(assessment_id: str, edit_key: str) -> Caller:
    """A caller offering one key for one assessment: a private link's `?key=` being opened."""
    return Caller(edit_keys={assessment_id: edit_key})


def _cookies_count(request: Request) -> bool:
    """Whether cookies may vouch for this request.

    Forms carry CSRF tokens. The JSON API has none, so a change through it on cookies alone
    must come from a page of this site (SameSite=Lax already keeps them off cross-site posts):
    a browser says where a request comes from in `Sec-Fetch-Site` and `Origin`. A client that
    is not a browser sends neither, and forges nothing by sending its own cookies.
    """
    # The scope's path: building `request.url` (host header, netloc) costs more than the check.
    if request.method not in _UNSAFE or not request.scope["path"].startswith("/api/"):
        return True
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in _SAME_SITE_FETCHES:
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def hold_key(request: Request, response: Response, assessment_id: str, edit_key: str) -> None:
    """Keep an assessment's edit key in this browser, beside the keys it already holds."""
    name = KEY_COOKIE_PREFIX + assessment_id
    if request.cookies.get(name) == edit_key:
        return
    held = [n for n in request.cookies if n.startswith(KEY_COOKIE_PREFIX) and n != name]
    # Browsers send older cookies first (RFC 6265, 5.4): drop the oldest beyond the cap.
    for old in held[: max(0, len(held) + 1 - MAX_KEY_COOKIES)]:
        response.delete_cookie(
            old, httponly=True, samesite="lax", secure=request.app.state.settings.secure_cookies
        )
    response.set_cookie(
        name,
        edit_key,
        max_age=KEY_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )


def hold_session(request: Request, response: Response, session_token: str) -> None:
    """Keep a signed-in session in this browser (the row decides how long it lives)."""
    response.set_cookie(
        SESSION_COOKIE,
        session_token,
        max_age=60 * 60 * 24 * 30,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )


def drop_session(request: Request, response: Response) -> None:
    """Forget this browser's session cookie."""
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
