"""JSON API of teams: create one, invite, accept an invite, remove or leave; and claiming an
assessment into an account or a team."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.services import ownership, teams
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import documented
from app.web.presenters import urls

# A signed-in caller is needed: no live personal API token or session cookie is a 401.
SIGN_IN_FIRST = documented(401, "Sign in first: no live personal API token or session.")

router = APIRouter(
    prefix="/api",
    tags=["teams"],
    responses=documented(422, "Bad input: each problem names its field and the allowed values."),
)
NOT_FOUND = documented(404, "No team with that id, or you are not in it.")
OWNERS_ONLY = documented(403, "Your role in the team does not allow this.")
Role = Literal["member", "reviewer", "owner"]


class NewTeam(BaseModel):
    """Body of `POST /api/teams`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=teams.MAX_NAME)


class TeamOut(BaseModel):
    """A team."""

    id: str
    name: str


class NewInvite(BaseModel):
    """Body of `POST /api/teams/{id}/invites`."""

    model_config = ConfigDict(extra="forbid")

    role: Role = Field(description="member edits; reviewer also reviews; owner also manages.")


class InviteOut(BaseModel):
    """A single-use invitation: whoever opens `url` (signed in) joins with the role."""

    token: str
    url: str = Field(description="The page that accepts it, `/invites/{token}`.")
    expires_at: datetime


class JoinedOut(BaseModel):
    """The team joined, and the role in it."""

    team: TeamOut
    role: str


class ClaimIn(BaseModel):
    """Body of `POST /api/assessments/{id}/claim`."""

    model_config = ConfigDict(extra="forbid")

    team: str | None = Field(
        default=None, description="A team of yours to own it; null: your account does."
    )


class OwnerOut(BaseModel):
    """Who an assessment belongs to now."""

    id: str
    owner_user_id: str | None
    team: TeamOut | None


@router.post(
    "/teams", status_code=status.HTTP_201_CREATED, response_model=TeamOut, responses=SIGN_IN_FIRST
)
def post_team(body: NewTeam, request: Request) -> TeamOut:
    """Create a team; you are its owner."""
    with transaction(request) as session:
        team = teams.create_team(session=session, caller=caller(request), name=body.name)
    return TeamOut(id=team.id, name=team.name)


@router.post(
    "/teams/{team_id}/invites",
    status_code=status.HTTP_201_CREATED,
    response_model=InviteOut,
    responses={**NOT_FOUND, **OWNERS_ONLY},
)
def post_invite(team_id: str, body: NewInvite, request: Request) -> InviteOut:
    """A single-use invitation into the team, expiring in 7 days (owners only)."""
    with transaction(request) as session:
        made = teams.create_invite(
            session=session, caller=caller(request), team_id=team_id, role=body.role
        )
    return InviteOut(token=made.token, url=urls.invite(made.token), expires_at=made.expires_at)


@router.post(
    "/invites/{invite_token}/accept",
    response_model=JoinedOut,
    responses={
        **documented(404, "The invitation is unknown, used or expired."),
        **SIGN_IN_FIRST,
    },
)
def post_accept(invite_token: str, request: Request) -> JoinedOut:
    """Join the team the invitation is for; it cannot be used again."""
    with transaction(request) as session:
        joined = teams.accept_invite(session=session, caller=caller(request), token=invite_token)
    return JoinedOut(team=TeamOut(id=joined.team.id, name=joined.team.name), role=joined.role)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, **OWNERS_ONLY},
)
def delete_member(team_id: str, user_id: str, request: Request) -> Response:
    """Remove a member (owners), or leave (your own id). The last owner cannot leave: 422."""
    with transaction(request) as session:
        teams.remove_member(
            session=session, caller=caller(request), team_id=team_id, user_id=user_id
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/assessments/{assessment_id}/claim",
    response_model=OwnerOut,
    responses={
        **documented(404, "No assessment with that id, or not with your key."),
        **SIGN_IN_FIRST,
    },
)
def post_claim(assessment_id: str, body: ClaimIn, request: Request) -> OwnerOut:
    """Move an assessment you hold the key for into your account or one of your teams."""
    with transaction(request) as session:
        owner = ownership.claim(
            session=session, caller=caller(request), assessment_id=assessment_id, team_id=body.team
        )
    team = TeamOut(id=owner.team_id, name=owner.team_name or "") if owner.team_id else None
    return OwnerOut(id=owner.assessment_id, owner_user_id=owner.user_id, team=team)
