"""Team pages: a team's members and assessments, invitations made and accepted.

Who may see or change what is decided by `app.services.teams` (through `access`): outsiders
404, members without the role 403, as on the JSON API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.services import accounts, ownership, teams
from app.web.credentials import caller
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.presenters import teams as presenter
from app.web.presenters import urls
from app.web.rendering import renderer

router = APIRouter(include_in_schema=False)
CsrfToken = Annotated[str | None, Form(alias="csrf_token")]
# The invitation's address is its credential: keep it out of Referer headers and caches.
INVITE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@router.get("/teams", response_class=HTMLResponse)
def teams_page(request: Request) -> Response:
    """The signed-in user's teams, and a form to create one."""
    with transaction(request) as session:
        me = accounts.me(session=session, caller=caller(request))
    return renderer(request).render(request, "teams/teams.html", presenter.teams_context(me))


@router.post("/teams")
def create_team(
    request: Request, csrf_token: CsrfToken = None, name: Annotated[str, Form()] = ""
) -> Response:
    """Create a team (you are its owner) and go to its page."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request) as session:
            team = teams.create_team(session=session, caller=caller(request), name=name)
    except accounts.AccountError as exc:
        with transaction(request, write=False) as session:
            me = accounts.me(session=session, caller=caller(request))
        context = presenter.teams_context(me, name=name, error=f"Name: {exc}")
        return renderer(request).render(request, "teams/teams.html", context, status_code=422)
    return RedirectResponse(urls.team(team.id), status_code=303)


@router.get("/my/assessments", response_class=HTMLResponse)
def my_assessments(request: Request) -> Response:
    """Signed in: your assessments and your teams'; anonymous: those this browser holds keys
    for."""
    credentials = caller(request)
    with transaction(request) as session:
        account = accounts.current(session=session, caller=credentials)
        held = ownership.held(session=session, caller=credentials)
        mine = ownership.mine(session=session, user_id=account.id) if account else []
    context = presenter.mine_context(account, mine, held)
    return renderer(request).render(request, "teams/mine.html", context)


@router.get("/teams/{team_id}", response_class=HTMLResponse)
def team_page(team_id: str, request: Request) -> Response:
    """The team's members and assessments; owners also invite."""
    with transaction(request) as session:
        detail = teams.team_detail(session=session, caller=caller(request), team_id=team_id)
    context = presenter.team_context(detail)
    return renderer(request).render(request, "teams/team.html", context)


@router.post("/teams/{team_id}/invites", response_class=HTMLResponse)
def invite(
    team_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    role: Annotated[str, Form()] = "member",
) -> Response:
    """Make a single-use invitation and show its link, this once."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        made = teams.create_invite(
            session=session, caller=caller(request), team_id=team_id, role=role
        )
        detail = teams.team_detail(session=session, caller=caller(request), team_id=team_id)
    context = presenter.team_context(detail, new_invite=made, base_url=str(request.base_url))
    response = renderer(request).render(request, "teams/team.html", context, status_code=201)
    response.headers.update(INVITE_HEADERS)
    return response


def _member_change(request: Request, team_id: str, change: Callable[[Session], None]) -> Response:
    """Apply a change to the team's members and go back to its page; the last owner's refusal
    re-renders the page (422) with the reason."""
    try:
        with transaction(request) as session:
            change(session)
            left = not teams.is_member(session=session, caller=caller(request), team_id=team_id)
    except teams.LastOwner as exc:
        with transaction(request, write=False) as session:
            detail = teams.team_detail(session=session, caller=caller(request), team_id=team_id)
        context = presenter.team_context(detail, error=str(exc).capitalize() + ".")
        return renderer(request).render(request, "teams/team.html", context, status_code=422)
    return RedirectResponse(urls.teams() if left else urls.team(team_id), status_code=303)


@router.post("/teams/{team_id}/members/{user_id}/role")
def change_role(
    team_id: str,
    user_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    role: Annotated[str, Form()] = "member",
) -> Response:
    """Give a member another role (owners only)."""
    check_csrf(request, csrf_token)
    return _member_change(
        request,
        team_id,
        lambda session: teams.change_role(
            session=session, caller=caller(request), team_id=team_id, user_id=user_id, role=role
        ),
    )


@router.post("/teams/{team_id}/members/{user_id}/remove")
def remove_member(
    team_id: str, user_id: str, request: Request, csrf_token: CsrfToken = None
) -> Response:
    """Remove a member (owners), or leave the team (your own row)."""
    check_csrf(request, csrf_token)
    return _member_change(
        request,
        team_id,
        lambda session: teams.remove_member(
            session=session, caller=caller(request), team_id=team_id, user_id=user_id
        ),
    )


@router.get("/invites/{invite_token}", response_class=HTMLResponse)
def invite_page(invite_token: str, request: Request) -> Response:
    """What the invitation offers, and a way to accept it (signing up or in first)."""
    with transaction(request) as session:
        offered = teams.invite_team(session=session, token=invite_token)
        account = accounts.current(session=session, caller=caller(request))
    context = presenter.invite_context(invite_token, offered, account)
    response = renderer(request).render(request, "teams/invite.html", context)
    response.headers.update(INVITE_HEADERS)
    return response


@router.post("/invites/{invite_token}")
def accept(invite_token: str, request: Request, csrf_token: CsrfToken = None) -> Response:
    """Join the team; the invitation is used up."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        joined = teams.accept_invite(session=session, caller=caller(request), token=invite_token)
    response = RedirectResponse(urls.team(joined.team.id), status_code=303)
    response.headers.update(INVITE_HEADERS)
    return response
