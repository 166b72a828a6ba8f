"""Share pages: the read-only page a link opens, and the result page's forms to make and revoke.

Pages opened by a share link carry no control that changes anything, tell search engines to
stay away, and send no Referer: the address itself is the credential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.services import sharing as shares
from app.web.credentials import caller
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.errors import FieldRefused
from app.web.presenters import sharing, urls
from app.web.presenters.sharing import EXPIRY_CHOICES
from app.web.rendering import renderer

router = APIRouter(include_in_schema=False)

# On every response to a share link's address, found or not.
SHARED_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
CsrfToken = Annotated[str | None, Form(alias="csrf_token")]


@router.get("/s/{token}", response_class=HTMLResponse)
def shared_page(token: str, request: Request) -> Response:
    """The shared result, read-only; each open is counted."""
    with transaction(request, write=True) as session:
        shared = shares.open_share(session=session, token=token)
    context = sharing.shared_context(shared, str(request.base_url), token)
    response = renderer(request).render(request, "sharing/shared.html", context)
    response.headers.update(SHARED_HEADERS)
    return response


@router.post("/assessments/{assessment_id}/shares")
def create(
    assessment_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    expires_in_days: Annotated[str | None, Form()] = None,
) -> Response:
    """Make a share link from the result page's form, then show it in the list there."""
    check_csrf(request, csrf_token)
    try:
        days = sharing.expiry_choice(expires_in_days)
    except ValueError as exc:
        # The field and its choices by name (an HTTPException named only "path").
        allowed = [choice for choice, _ in EXPIRY_CHOICES]
        raise FieldRefused(
            "expires_in_days", str(exc), kind="literal_error", allowed=allowed
        ) from exc
    with transaction(request) as session:
        shares.create_share(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            expires_in_days=days,
            secret_key=request.app.state.settings.secret_key,
        )
    return RedirectResponse(urls.share_section(assessment_id), status_code=303)


@router.post("/assessments/{assessment_id}/shares/{token}/revoke")
def revoke(
    assessment_id: str, token: str, request: Request, csrf_token: CsrfToken = None
) -> Response:
    """Revoke a share link from the result page's list."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        shares.revoke_share(
            session=session, caller=caller(request), assessment_id=assessment_id, token=token
        )
    return RedirectResponse(urls.share_section(assessment_id), status_code=303)
