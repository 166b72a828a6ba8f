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
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, func, select
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
    UserSession,
    secret_hash,
    utcnow,
)
from app.services import assessments, audit
from app.services.access import (
    Caller,
    NotSignedIn,
    ReviewCaller,
    aware,
    check_self_approval,
    require_decider,
    require_review_reader,
    require_team,
    role_allows,
    signed_in,
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
        return self.may_decide and (self.allow_self_approval or not self.viewer_is_author)


def revision_of(session: Session, assessment_id: str) -> int:
    """The assessment's current revision: how many answer changes it has had."""
    return int(
        session.scalar(select(func.count()).where(Answer.assessment_id == assessment_id)) or 0
    )


def authors(session: Session, assessment_id: str) -> set[str]:
    """Its authors: who gave any of its answers, or asked for its review."""
    gave = select(Answer.author_id).where(
        Answer.assessment_id == assessment_id, Answer.author_id.is_not(None)
    )
    asked = select(AuditEvent.actor_id).where(
        AuditEvent.assessment_id == assessment_id,
        AuditEvent.action == "review_requested",
        AuditEvent.actor_id.is_not(None),
    )
    return {str(u) for u in session.scalars(gave.union(asked))}


def _team_members(session: Session, team_id: str) -> dict[str, Person]:
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
    members = _team_members(session, team_id)
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


def review_state(*, session: Session, caller: Caller, assessment_id: str) -> ReviewState:
    """The review of an assessment the caller may read (else `AssessmentNotFound`)."""
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
            aware(d.created_at),
            None if d.superseded_at is None else aware(d.superseded_at),
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
        members = _team_members(session, viewer.team_id)
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
    )


def set_self_approval(*, session: Session, caller: Caller, team_id: str, allowed: bool) -> None:
    """Turn the team's self-approval on or off: its owners only (`require_team`, owner)."""
    require_team(session=session, caller=caller, team_id=team_id, role="owner")
    session.get_one(Team, team_id).allow_self_approval = allowed


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
    return [Waiting(a, t, team, aware(at)) for a, t, team, at in rows]


def waiting_count(*, session: Session, caller: Caller) -> int:
    """How many assessments wait for the caller's review: one indexed query from the session
    cookie (sessions' token hash, review_participants' user_id, assessments' primary key).
    0 when not signed in by a session."""
    if caller.session_token is None:
        return 0
    now = utcnow()
    count = session.scalar(
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
            UserSession.token_hash == secret_hash(caller.session_token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            Assessment.status == "in_review",
        )
    )
    return int(count or 0)
