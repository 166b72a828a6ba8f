"""Whose assessments: claiming an anonymous one into an account or a team, and the lists of
"My assessments" (a user's and their teams', or those a browser holds keys for)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import Assessment, Membership, Team
from app.services.access import (
    AssessmentNotFound,
    Caller,
    matching_key,
    require_assessment,
    require_team,
    require_user,
    signed_in,
)


@dataclass(frozen=True)
class Owner:
    """Who an assessment belongs to now: a user (team None) or a team."""

    assessment_id: str
    user_id: str | None
    team_id: str | None
    team_name: str | None


@dataclass(frozen=True)
class Listed:
    """One assessment in a list, and the team it belongs to, if any."""

    id: str
    title: str | None
    status: str
    updated_at: datetime
    team_name: str | None


def claim(*, session: Session, caller: Caller, assessment_id: str, team_id: str | None) -> Owner:
    """Move an assessment the caller holds the key for (or owns) into their account, or into
    one of their teams. The key keeps working for whoever holds it.

    `AssessmentNotFound` without access, `NotSignedIn` when not signed in, `TeamNotFound` for
    a team the caller is not in.
    """
    opened = require_assessment(session=session, caller=caller, assessment_id=assessment_id)
    user_id = require_user(session=session, caller=caller)
    assessment = session.get_one(Assessment, assessment_id)
    if opened.edit_key is None and assessment.owner_user_id != user_id:
        # A team member without the key may not take a team's assessment for themselves.
        raise AssessmentNotFound(assessment_id)
    team_name = None
    if team_id is not None:
        require_team(session=session, caller=caller, team_id=team_id, role="member", field="team")
        team_name = session.get_one(Team, team_id).name
        assessment.owner_user_id, assessment.team_id = None, team_id
    else:
        assessment.owner_user_id, assessment.team_id = user_id, None
    if assessment.author_id is None:
        # Made without an account: whoever claims it is its author from now on (the
        # dashboard's author filter, the self-approval rule). A made one keeps its author.
        assessment.author_id = user_id
    return Owner(assessment_id, assessment.owner_user_id, assessment.team_id, team_name)


def _listed(session: Session, *conditions: object) -> list[Listed]:
    rows = session.execute(
        select(Assessment.id, Assessment.title, Assessment.status, Assessment.updated_at, Team.name)
        .outerjoin(Team, Team.id == Assessment.team_id)
        .where(*conditions)  # type: ignore[arg-type]
        .order_by(Assessment.updated_at.desc(), Assessment.id)
    ).all()
    return [Listed(r.id, r.title, r.status, r.updated_at, r.name) for r in rows]


def mine(*, session: Session, user_id: str) -> list[Listed]:
    """A user's assessments and their teams', newest first."""
    teams = select(Membership.team_id).where(Membership.user_id == user_id)
    return _listed(session, or_(Assessment.owner_user_id == user_id, Assessment.team_id.in_(teams)))


def held(*, session: Session, caller: Caller) -> list[Listed]:
    """The assessments whose keys this browser holds (checked, not trusted), newest first."""
    ids = list(caller.edit_keys)[:100]
    if not ids:
        return []
    found = session.execute(
        select(Assessment.id, Assessment.edit_key_hash).where(Assessment.id.in_(ids))
    ).all()
    opened = [r.id for r in found if matching_key(caller, r.edit_key_hash, r.id)]
    return _listed(session, Assessment.id.in_(opened)) if opened else []


@dataclass(frozen=True)
class ClaimChoices:
    """What the result page offers a signed-in user about an assessment's owner."""

    owner: str  # "nobody", "you" or "team"
    team_name: str | None
    teams: list[tuple[str, str]]  # (id, name) of the user's teams


def claim_choices(*, session: Session, caller: Caller, assessment_id: str) -> ClaimChoices | None:
    """Who owns the assessment and where it could move; None when nobody is signed in.

    Call it after the assessment's own access check: it does not check again.
    """
    if caller.session_token is None and caller.api_token is None:
        return None
    user_id = signed_in(session=session, caller=caller)
    if user_id is None:
        return None
    assessment = session.get_one(Assessment, assessment_id)
    teams = session.execute(
        select(Team.id, Team.name)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user_id)
        .order_by(Team.name, Team.id)
    ).all()
    choices = [(t.id, t.name) for t in teams]
    if assessment.team_id is not None:
        names = dict(choices)
        return ClaimChoices("team", names.get(assessment.team_id), choices)
    owner = "you" if assessment.owner_user_id == user_id else "nobody"
    return ClaimChoices(owner, None, choices)
