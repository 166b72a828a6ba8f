"""Team review of an assessment: ask for review, approve or request changes, and what waits.

Statuses: `in_progress` -> `completed` -> `in_review` -> `approved` or `changes_requested`
(back to editing; a new request goes to `in_review` again). An answer to an approved
assessment reopens it (`app.services.assessments.record_answer`): the approval stays on the
revision it approved, and a newer approval marks it superseded. Who may is decided in
`app.services.access` (readers, `require_decider`, `check_self_approval`); every action is
logged through `app.services.audit.record_event` (docs/adr/0012).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.decision.bank import BANK
from app.models import (
    PARTICIPANT_KINDS,
    Answer,
    Assessment,
    AuditEvent,
    Membership,
    RecommendationSnapshot,
    ReviewDecision,
    ReviewParticipant,
    Team,
    User,
    utcnow,
)
from app.services import assessments, audit
from app.services.access import (
    Caller,
    NotSignedIn,
    ReviewCaller,
    check_self_approval,
    require_decider,
    require_review_reader,
    require_team,
    role_allows,
)

OUTCOMES = ("approved", "changes_requested")
# From where a review may be asked for, and where a reviewer may decide.
REQUESTABLE = ("in_progress", "completed", "in_review", "changes_requested")
DECIDABLE = ("in_review", "changes_requested", "approved")


class ReviewError(ValueError):
    """A review action refused, naming the field and what would do; nothing was stored.

    `status` is 409 when the assessment's state refuses it (ask again later), else 422.
    """

    def __init__(
        self, field: str, message: str, *, allowed: list[str] | None = None, status: int = 422
    ) -> None:
        super().__init__(message)
        self.field = field
        self.allowed = allowed
        self.status = status


@dataclass(frozen=True)
class Person:
    """A team member as the review shows them."""

    user_id: str
    email: str
    role: str | None = None


def revision_of(session: Session, assessment_id: str) -> int:
    """The assessment's current revision: how many answer changes it has had."""
    return int(
        session.scalar(select(func.count()).where(Answer.assessment_id == assessment_id)) or 0
    )


def authors(session: Session, assessment_id: str) -> set[str]:
    """Its authors: who made or claimed it (`assessments.author_id`), gave any of its
    answers, or asked for its review."""
    made = select(Assessment.author_id).where(
        Assessment.id == assessment_id, Assessment.author_id.is_not(None)
    )
    gave = select(Answer.author_id).where(
        Answer.assessment_id == assessment_id, Answer.author_id.is_not(None)
    )
    asked = select(AuditEvent.actor_id).where(
        AuditEvent.assessment_id == assessment_id,
        AuditEvent.action == "review_requested",
        AuditEvent.actor_id.is_not(None),
    )
    return {str(u) for u in session.scalars(made.union(gave, asked))}


def team_members(session: Session, team_id: str) -> dict[str, Person]:
    """The team's members by user id, ordered by email."""
    rows = session.execute(
        select(User.id, User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team_id)
        .order_by(User.email)
    )
    return {user_id: Person(user_id, email, role) for user_id, email, role in rows}


def _require_team_assessment(viewer: ReviewCaller) -> str:
    """The assessment's team; a review needs one (its members review)."""
    if viewer.team_id is None:
        raise ReviewError(
            "assessment_id",
            "only a team's assessment can be reviewed: move it into a team first",
            status=409,
        )
    return viewer.team_id


def request_review(
    *,
    session: Session,
    caller: Caller,
    assessment_id: str,
    reviewers: Sequence[str],
    consulted: Sequence[str] = (),
    informed: Sequence[str] = (),
) -> str:
    """Ask team members to review the assessment; its new status (`in_review`).

    The caller must be signed in and in the assessment's team. Reviewers must be members whose
    role is reviewer or owner (not the caller, unless the team allows self-approval); the
    consulted and informed, any members. An assessment in progress is completed on the way
    (its recommendation snapshotted). Assignments add to earlier ones.
    """
    viewer = require_review_reader(
        session=session, caller=caller, assessment_id=assessment_id, for_update=True
    )
    if viewer.user_id is None:
        raise NotSignedIn
    team_id = _require_team_assessment(viewer)
    if viewer.status not in REQUESTABLE:
        raise ReviewError(
            "status",
            f"an assessment that is {viewer.status} cannot be sent for review: change an answer"
            " first, which starts a new revision",
            allowed=list(REQUESTABLE),
            status=409,
        )
    if not reviewers:
        raise ReviewError("reviewers", "name at least one reviewer (a user id)")
    members = team_members(session, team_id)
    team = session.get_one(Team, team_id)
    for user_id in reviewers:
        member = members.get(user_id)
        if member is None or member.role is None or not role_allows(member.role, "reviewer"):
            allowed = [p.user_id for p in members.values() if p.role != "member"]
            raise ReviewError(
                "reviewers",
                f"{user_id!r} is not a reviewer or owner of this assessment's team",
                allowed=allowed,
            )
        if user_id == viewer.user_id and not team.allow_self_approval:
            raise ReviewError("reviewers", "you cannot review your own assessment in this team")
    for name, chosen in (("consulted", consulted), ("informed", informed)):
        unknown = [u for u in chosen if u not in members]
        if unknown:
            raise ReviewError(
                name, f"not members of the team: {', '.join(unknown)}", allowed=list(members)
            )
    if viewer.status == "in_progress":
        assessments.complete_assessment(session=session, caller=caller, assessment_id=assessment_id)
    now = utcnow()
    assigned = {**{u: "informed" for u in informed}, **{u: "consulted" for u in consulted}}
    assigned.update({u: "reviewer" for u in reviewers})
    for user_id, kind in assigned.items():
        row = session.get(ReviewParticipant, (assessment_id, user_id))
        if row is None:
            session.add(
                ReviewParticipant(
                    assessment_id=assessment_id,
                    user_id=user_id,
                    kind=kind,
                    assigned_by=viewer.user_id,
                    assigned_at=now,
                )
            )
        elif PARTICIPANT_KINDS.index(kind) < PARTICIPANT_KINDS.index(row.kind):
            row.kind = kind  # a stronger part replaces a weaker one, never the other way
    assessment = session.get_one(Assessment, assessment_id)
    assessment.status = "in_review"
    assessment.updated_at = now
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=viewer.user_id,
        action="review_requested",
        detail={
            "revision": revision_of(session, assessment_id),
            "reviewers": [members[u].email for u in reviewers],
            "consulted": [members[u].email for u in consulted],
            "informed": [members[u].email for u in informed],
        },
    )
    return assessment.status


def decide(
    *,
    session: Session,
    caller: Caller,
    assessment_id: str,
    outcome: str,
    comment: str | None = None,
) -> str:
    """Approve the assessment's current revision, or request changes; its new status.

    Only a team reviewer or owner (else `Forbidden`); an author approves their own assessment
    only where the team allows it (else `SelfApproval`). An approval supersedes the approvals
    of earlier revisions still in force.
    """
    if outcome not in OUTCOMES:
        raise ReviewError("outcome", f"{outcome!r} is not an outcome", allowed=list(OUTCOMES))
    viewer = require_decider(session=session, caller=caller, assessment_id=assessment_id)
    assert viewer.user_id is not None and viewer.team_id is not None  # a decider is a member
    if viewer.status not in DECIDABLE:
        raise ReviewError(
            "status",
            f"an assessment that is {viewer.status} is not under review: ask for a review first",
            allowed=list(DECIDABLE),
            status=409,
        )
    team = session.get_one(Team, viewer.team_id)
    if outcome == "approved":
        check_self_approval(
            decider=viewer.user_id,
            authors=authors(session, assessment_id),
            allowed=team.allow_self_approval,
        )
    now = utcnow()
    if session.get(ReviewParticipant, (assessment_id, viewer.user_id)) is None:
        session.add(
            ReviewParticipant(
                assessment_id=assessment_id,
                user_id=viewer.user_id,
                kind="reviewer",
                assigned_by=None,
                assigned_at=now,
            )
        )
        session.flush()
    snapshot = session.execute(
        select(RecommendationSnapshot.id, RecommendationSnapshot.ruleset)
        .where(RecommendationSnapshot.assessment_id == assessment_id)
        .order_by(RecommendationSnapshot.id.desc())
        .limit(1)
    ).first()
    revision = revision_of(session, assessment_id)
    decision = ReviewDecision(
        assessment_id=assessment_id,
        revision=revision,
        outcome=outcome,
        decided_by=viewer.user_id,
        comment=(comment or "").strip() or None,
        snapshot_id=None if snapshot is None else snapshot.id,
        ruleset=BANK.version if snapshot is None else snapshot.ruleset,
        participants=_participants(session, assessment_id, viewer.user_id),
        created_at=now,
    )
    session.add(decision)
    session.flush()
    superseded: list[int] = []
    if outcome == "approved":
        older = session.scalars(
            select(ReviewDecision).where(
                ReviewDecision.assessment_id == assessment_id,
                ReviewDecision.outcome == "approved",
                ReviewDecision.superseded_at.is_(None),
                ReviewDecision.revision < revision,
            )
        )
        for old in older:
            old.superseded_at, old.superseded_by = now, decision.id
            superseded.append(old.id)
    assessment = session.get_one(Assessment, assessment_id)
    assessment.status = outcome
    assessment.updated_at = now
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=viewer.user_id,
        action=outcome,
        detail={"revision": revision, "decision": decision.id, "comment": decision.comment},
    )
    if superseded:
        audit.record_event(
            session,
            assessment_id=assessment_id,
            actor=viewer.user_id,
            action="approval_superseded",
            detail={"decisions": superseded, "by": decision.id, "revision": revision},
        )
    return assessment.status


def _participants(session: Session, assessment_id: str, decider: str) -> dict[str, list[str]]:
    """MADR's deciders, consulted and informed (emails) as they stand now: kept with the
    decision, so its record names them even after accounts change."""
    people: dict[str, list[str]] = {"deciders": [], "consulted": [], "informed": []}
    heading = {"reviewer": "deciders", "consulted": "consulted", "informed": "informed"}
    rows = session.execute(
        select(ReviewParticipant.kind, User.email, User.id)
        .join(User, User.id == ReviewParticipant.user_id)
        .where(ReviewParticipant.assessment_id == assessment_id)
        .order_by(User.email)
    )
    for kind, email, user_id in rows:
        people[heading[kind]].append(email)
        if user_id == decider and kind != "reviewer":  # consulted before, deciding now
            people["deciders"].append(email)
    return people


def set_self_approval(*, session: Session, caller: Caller, team_id: str, allowed: bool) -> None:
    """Turn the team's self-approval on or off: its owners only (`require_team`, owner)."""
    require_team(session=session, caller=caller, team_id=team_id, role="owner")
    session.get_one(Team, team_id).allow_self_approval = allowed
