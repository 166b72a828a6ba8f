"""Account pages: sign up, sign in, sign out. Forms that work without JavaScript, with CSRF.

A sign-up or sign-in reached from an invitation (`?invite=TOKEN`) returns to it; no other
address is accepted as a destination, so the forms cannot be used to redirect elsewhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.decision.bank import BANK
from app.services import accounts
from app.web.credentials import caller, drop_session, hold_session
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.presenters import urls
from app.web.presenters.accounts import account_context
from app.web.rendering import renderer

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
CsrfToken = Annotated[str | None, Form(alias="csrf_token")]
Invite = Annotated[str | None, Form()]


def _after(invite: str | None) -> str:
    """Where a sign-up or sign-in goes next: the invitation it came from, else home."""
    return urls.invite(invite) if invite else urls.home()


def _form(
    request: Request, template: str, invite: str | None, *, status_code: int = 200, **extra: object
) -> Response:
    context = {
        "invite": invite,
        "signup_url": urls.signup(),
        "signin_url": urls.signin(),
        "signup_with_invite": urls.signup(invite),
        "signin_with_invite": urls.signin(invite),
        "min_password": accounts.MIN_PASSWORD,
        "email": "",
        "error": None,
        "ruleset": BANK.version,
        **extra,
    }
    response = renderer(request).render(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in(request: Request, token: str, invite: str | None) -> Response:
    response = RedirectResponse(_after(invite), status_code=303)
    hold_session(request, response, token)
    return response


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, invite: str | None = None) -> Response:
    """The sign-up form."""
    return _form(request, "accounts/signup.html", invite)


@router.post("/signup")
def signup(
    request: Request,
    email: Text = "",
    password: Text = "",
    csrf_token: CsrfToken = None,
    invite: Invite = None,
) -> Response:
    """Create an account and sign this browser in."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request) as session:
            made = accounts.create_user(session=session, email=email, password=password)
            token = accounts.start_session(
                session=session, user_id=made.id, user_agent=request.headers.get("user-agent")
            )
    except accounts.AccountError as exc:
        status = 409 if isinstance(exc, accounts.EmailTaken) else 422
        error = f"{exc.field.capitalize()}: {exc}"
        return _form(
            request, "accounts/signup.html", invite, status_code=status, email=email, error=error
        )
    return _signed_in(request, token, invite)


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, invite: str | None = None) -> Response:
    """The sign-in form."""
    return _form(request, "accounts/signin.html", invite)


@router.post("/signin")
def signin(
    request: Request,
    email: Text = "",
    password: Text = "",
    csrf_token: CsrfToken = None,
    invite: Invite = None,
) -> Response:
    """Sign this browser in; a refusal never says whether the email has an account."""
    check_csrf(request, csrf_token)
    address = request.client.host if request.client else None
    token = None
    with transaction(request) as session:  # committed even when refused: the failure counts
        outcome = accounts.authenticate(
            session=session, email=email, password=password, address=address
        )
        if not isinstance(outcome, accounts.Refused):
            token = accounts.start_session(
                session=session, user_id=outcome, user_agent=request.headers.get("user-agent")
            )
    if token is not None:
        return _signed_in(request, token, invite)
    assert isinstance(outcome, accounts.Refused)
    refused = outcome.error()
    status = 401 if outcome.retry_after_s is None else 429
    response = _form(
        request,
        "accounts/signin.html",
        invite,
        status_code=status,
        email=email,
        error=str(refused).capitalize() + ".",
    )
    if outcome.retry_after_s is not None:
        response.headers["Retry-After"] = str(outcome.retry_after_s)
    return response


@router.post("/signout")
def signout(request: Request, csrf_token: CsrfToken = None) -> Response:
    """End this browser's session (on the server too) and forget its cookie."""
    check_csrf(request, csrf_token)
    token = caller(request).session_token
    if token is not None:
        with transaction(request) as session:
            accounts.end_session(session=session, token=token)
    response = RedirectResponse(urls.home(), status_code=303)
    drop_session(request, response)
    return response


def _account_page(
    request: Request,
    *,
    status_code: int = 200,
    new_token: str | None = None,
    error: str | None = None,
) -> Response:
    with transaction(request, write=False) as session:
        view = accounts.account_view(session=session, caller=caller(request))
    context = account_context(view, new_token=new_token, error=error)
    response = renderer(request).render(
        request, "accounts/account.html", context, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    """Password, personal API tokens and signed-in sessions."""
    return _account_page(request)


@router.post("/account/password")
def change_password(
    request: Request,
    csrf_token: CsrfToken = None,
    current_password: Text = "",
    password: Text = "",
) -> Response:
    """Change the password; every other session ends."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request) as session:
            accounts.change_password(
                session=session,
                caller=caller(request),
                current_password=current_password,
                new_password=password,
            )
    except accounts.AccountError as exc:
        label = exc.field.replace("_", " ").capitalize()
        return _account_page(request, status_code=422, error=f"{label}: {exc}")
    return RedirectResponse(urls.account(), status_code=303)


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(request: Request, csrf_token: CsrfToken = None, name: Text = "") -> Response:
    """A new personal API token, shown on the page this once."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        user_id = accounts.require_user(session=session, caller=caller(request))
        token = accounts.create_api_token(
            session=session, user_id=user_id, name=name.strip() or "API token"
        )
    return _account_page(request, status_code=201, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(token_id: str, request: Request, csrf_token: CsrfToken = None) -> Response:
    """Revoke one of your API tokens."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        accounts.revoke_api_token(session=session, caller=caller(request), token_id=token_id)
    return RedirectResponse(urls.account(), status_code=303)


@router.post("/account/sessions/{session_id}/revoke")
def revoke_session(session_id: str, request: Request, csrf_token: CsrfToken = None) -> Response:
    """Sign one of your sessions out."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        accounts.revoke_session(session=session, caller=caller(request), session_id=session_id)
    return RedirectResponse(urls.account(), status_code=303)
