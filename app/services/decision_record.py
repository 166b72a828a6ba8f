"""What an assessment's decision record says: the answers, the recommendation decided on, its
review status and who took part (MADR's deciders, consulted and informed).

Access goes through `assessments.assessment_state` (`app.services.access`); the web layer
writes the record as MADR Markdown or JSON (`app.web.presenters.decision_record`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.decision.recommendation import Recommendation
from app.models import ReviewDecision, ReviewParticipant, User
from app.services.access import Caller
from app.services.assessments import AssessmentState, assessment_state, current_recommendation

# MADR's status words for the review statuses (an assessment not yet approved is proposed).
MADR_STATUS = {
    "in_progress": "proposed",
    "completed": "proposed",
    "in_review": "proposed",
    "changes_requested": "proposed",
    "approved": "accepted",
    "superseded": "superseded",
}


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision on one revision."""

    outcome: str
    by: str | None
    comment: str | None
    revision: int
    at: datetime
    superseded: bool


@dataclass(frozen=True)
class DecisionRecord:
    """Everything a decision record of one assessment says."""

    state: AssessmentState
    recommendation: Recommendation
    status: str
    decided_at: datetime
    deciders: list[str] = field(default_factory=list)
    consulted: list[str] = field(default_factory=list)
    informed: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def madr_status(self) -> str:
        """The status in MADR's words."""
        return MADR_STATUS.get(self.status, "proposed")


def decision_record(*, session: Session, caller: Caller, assessment_id: str) -> DecisionRecord:
    """The decision record of an assessment the caller may read (else `AssessmentNotFound`).

    The people are those named by the newest approval still in force, as they stood when it
    was given; without one, the reviewers, consulted and informed assigned now.
    """
    state = assessment_state(session=session, caller=caller, assessment_id=assessment_id)
    recommendation = current_recommendation(session=session, state=state)
    rows = session.execute(
        select(ReviewDecision, User.email)
        .outerjoin(User, User.id == ReviewDecision.decided_by)
        .where(ReviewDecision.assessment_id == assessment_id)
        .order_by(ReviewDecision.id)
    ).all()
    decisions = [
        Decision(
            outcome=d.outcome,
            by=email,
            comment=d.comment,
            revision=d.revision,
            at=d.created_at,
            superseded=d.superseded_at is not None,
        )
        for d, email in rows
    ]
    in_force = [d for d, _ in rows if d.outcome == "approved" and d.superseded_at is None]
    people: dict[str, list[str]] = {"deciders": [], "consulted": [], "informed": []}
    if in_force and in_force[-1].participants:
        for key in people:
            people[key] = sorted(str(p) for p in in_force[-1].participants.get(key, []))
    else:
        kinds = {"reviewer": "deciders", "consulted": "consulted", "informed": "informed"}
        for kind, email in session.execute(
            select(ReviewParticipant.kind, User.email)
            .join(User, User.id == ReviewParticipant.user_id)
            .where(ReviewParticipant.assessment_id == assessment_id)
            .order_by(User.email)
        ):
            people[kinds[kind]].append(email)
    decided_at = in_force[-1].created_at if in_force else state.assessment.updated_at
    return DecisionRecord(
        state=state,
        recommendation=recommendation,
        status=state.assessment.status,
        decided_at=decided_at,
        deciders=people["deciders"],
        consulted=people["consulted"],
        informed=people["informed"],
        decisions=decisions,
    )
