"""The review of one assessment as its pages and API show it, and what the viewer may do.

Read-only: the actions are in `app.services.review`; access in `app.services.access`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PARTICIPANT_KINDS, ReviewDecision, ReviewParticipant, Team, User
from app.services.access import Caller, ReviewCaller, require_review_reader, role_allows
from app.services.review import (
    DECIDABLE,
    REQUESTABLE,
    Person,
    authors,
    revision_of,
    team_members,
)


@dataclass(frozen=True)
class Decision:
    """One approval or request for changes, on the revision it judged."""

    id: int
    outcome: str
    by: str
    comment: str | None
    revision: int
    ruleset: str
    at: datetime
    superseded_at: datetime | None
    by_id: str | None = None


@dataclass(frozen=True)
class ReviewState:
    """Everything the review panel shows and what the viewer may do there."""

    viewer: ReviewCaller
    revision: int
    reviewers: list[Person] = field(default_factory=list)
    consulted: list[Person] = field(default_factory=list)
    informed: list[Person] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    candidates: list[Person] = field(default_factory=list)  # who may be asked to review
    members: list[Person] = field(default_factory=list)  # who may be consulted or informed
    allow_self_approval: bool = False
    viewer_is_author: bool = False
    viewer_approved_current: bool = False  # the viewer's approval of this revision stands

    @property
    def may_request(self) -> bool:
        """Whether the viewer may ask for a review now (a signed-in team member)."""
        return (
            self.viewer.team_id is not None
            and self.viewer.role is not None
            and self.viewer.status in REQUESTABLE
        )

    @property
    def may_decide(self) -> bool:
        """Whether the viewer may approve or request changes now."""
        return self.viewer.may_decide and self.viewer.status in DECIDABLE

    @property
    def may_approve(self) -> bool:
        """Whether the viewer may approve (not their own work, unless the team allows it)."""
        return (
            self.may_decide
            and not self.viewer_approved_current
            and (self.allow_self_approval or not self.viewer_is_author)
        )


def review_state(
    *, session: Session, caller: Caller, assessment_id: str, viewer: ReviewCaller | None = None
) -> ReviewState:
    """The review of an assessment the caller may read (else `AssessmentNotFound`).

    `viewer`: the caller's access, already checked for this assessment (saves the check).
    """
    if viewer is None or viewer.assessment_id != assessment_id:
        viewer = require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    revision = revision_of(session, assessment_id)
    people: dict[str, list[Person]] = {kind: [] for kind in PARTICIPANT_KINDS}
    for kind, user_id, email in session.execute(
        select(ReviewParticipant.kind, User.id, User.email)
        .join(User, User.id == ReviewParticipant.user_id)
        .where(ReviewParticipant.assessment_id == assessment_id)
        .order_by(User.email)
    ):
        people[kind].append(Person(user_id, email))
    decisions = [
        Decision(
            d.id,
            d.outcome,
            email or "a deleted account",
            d.comment,
            d.revision,
            d.ruleset,
            d.created_at,
            None if d.superseded_at is None else d.superseded_at,
            d.decided_by,
        )
        for d, email in session.execute(
            select(ReviewDecision, User.email)
            .outerjoin(User, User.id == ReviewDecision.decided_by)
            .where(ReviewDecision.assessment_id == assessment_id)
            .order_by(ReviewDecision.id)
        )
    ]
    members: dict[str, Person] = {}
    allow_self = False
    if viewer.team_id is not None and viewer.role is not None:
        members = team_members(session, viewer.team_id)
        allow_self = session.get_one(Team, viewer.team_id).allow_self_approval
    is_author = viewer.user_id is not None and viewer.user_id in authors(session, assessment_id)
    candidates = [
        p
        for p in members.values()
        if p.role is not None
        and role_allows(p.role, "reviewer")
        and (allow_self or p.user_id != viewer.user_id)
    ]
    return ReviewState(
        viewer=viewer,
        revision=revision,
        reviewers=people["reviewer"],
        consulted=people["consulted"],
        informed=people["informed"],
        decisions=decisions,
        candidates=candidates,
        members=list(members.values()),
        allow_self_approval=allow_self,
        viewer_is_author=is_author,
        viewer_approved_current=any(
            d.by_id == viewer.user_id
            and d.outcome == "approved"
            and d.revision == revision
            and d.superseded_at is None
            for d in decisions
        ),
    )


def viewer(*, session: Session, caller: Caller, assessment_id: str) -> ReviewCaller:
    """Who is looking, the assessment's status and team (else `AssessmentNotFound`): whether a
    page needs the review at all (only a team's assessment is reviewed)."""
    return require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
