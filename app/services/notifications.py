"""In-app notifications: the assessments waiting for the signed-in user's review, and their
count for the page header (one indexed query from the session cookie)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from app.models import Assessment, ReviewParticipant, UserSession, secret_hash, utcnow
from app.services.access import Caller, NotSignedIn, signed_in


@dataclass(frozen=True)
class Waiting:
    """An assessment waiting for the caller's review."""

    assessment_id: str
    title: str | None
    team_id: str | None
    updated_at: datetime


def _waiting_query(user_id: str) -> Select[str, str | None, str | None, datetime]:
    """Assessments in review that name `user_id` as a reviewer (review_participants' user_id
    index, then the assessments' primary key)."""
    return (
        select(Assessment.id, Assessment.title, Assessment.team_id, Assessment.updated_at)
        .join(ReviewParticipant, ReviewParticipant.assessment_id == Assessment.id)
        .where(
            ReviewParticipant.user_id == user_id,
            ReviewParticipant.kind == "reviewer",
            Assessment.status == "in_review",
        )
    )


def waiting_for_review(*, session: Session, caller: Caller) -> list[Waiting]:
    """The assessments waiting for the signed-in caller's review, newest change first."""
    user_id = signed_in(session=session, caller=caller)
    if user_id is None:
        raise NotSignedIn
    rows = session.execute(_waiting_query(user_id).order_by(Assessment.updated_at.desc()))
    return [Waiting(a, t, team, at) for a, t, team, at in rows]


def waiting_count(*, session: Session, caller: Caller) -> int:
    """How many assessments wait for the caller's review: one indexed query from the session
    cookie (sessions' token hash, review_participants' user_id, assessments' primary key).
    0 when not signed in by a session."""
    if caller.session_token is None:
        return 0
    query = waiting_count_query(secret_hash(caller.session_token), utcnow())
    return int(session.scalar(query) or 0)


def waiting_count_query(token_hash: str, now: datetime) -> Select[int]:
    """The header's count as one statement (its query plan is tested)."""
    return (
        select(func.count())
        .select_from(UserSession)
        .join(
            ReviewParticipant,
            and_(
                ReviewParticipant.user_id == UserSession.user_id,
                ReviewParticipant.kind == "reviewer",
            ),
        )
        .join(Assessment, Assessment.id == ReviewParticipant.assessment_id)
        .where(
            UserSession.token_hash == token_hash,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            Assessment.status == "in_review",
        )
    )
