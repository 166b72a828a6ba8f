"""Revisions of an assessment, the diff between two of them, milestones, and ruleset upgrades.

Revision R is the answers after the R-th answer change (revision 0: none given). A diff
compares two points, each a revision (`3`, or `current`) or a milestone (`m12`): the answers
that differ, side by side, and the recommendation each point gives (primary, plan, scores).
A revision's recommendation is decided afresh by the engine; a milestone's is the one frozen
with it. Access goes through `app.services.access` (docs/adr/0012).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.decision.bank import BANK, walk
from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.models import Answer, Milestone, RecommendationSnapshot, User, utcnow
from app.services import assessments, audit
from app.services.access import Caller, ReviewCaller, require_review_reader, signed_in
from app.services.review import ReviewError

NAME_MAX = 100
CURRENT = "current"
MILESTONE_PREFIX = "m"
_ORDER = {q.id: i for i, q in enumerate(BANK.questions)}


@dataclass(frozen=True)
class Revision:
    """One answer change: the revision it made, when, by whom, which question."""

    revision: int
    created_at: datetime
    author: str | None
    changed: list[str]
    value: Any


@dataclass(frozen=True)
class Outcome:
    """What a recommendation decides, as a diff compares it."""

    primary: str
    plan: list[str]
    scores: dict[str, float]
    ruleset: str

    @classmethod
    def of(cls, recommendation: Recommendation | Mapping[str, Any]) -> Outcome:
        """The compared parts of a recommendation (a model or its stored JSON)."""
        rec = (
            recommendation
            if isinstance(recommendation, Recommendation)
            else Recommendation.model_validate(recommendation)
        )
        scores = {str(a): float(s) for a, s in rec.scores.items()}
        return cls(str(rec.primary), [str(a) for a in rec.plan], scores, rec.ruleset)

    def as_json(self) -> dict[str, Any]:
        """The contract's shape: primary, plan, scores (and the ruleset that decided)."""
        return {
            "primary": self.primary,
            "plan": self.plan,
            "scores": self.scores,
            "ruleset": self.ruleset,
        }


@dataclass(frozen=True)
class AnswerChange:
    """One question answered differently at the two points (None: not answered)."""

    question: str
    title: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Point:
    """One side of a diff: a revision or a milestone, its answers and its recommendation."""

    label: str
    key: str  # what the diff's query names it by: "3", "m12"
    answers: dict[str, Any]
    outcome: Outcome


@dataclass(frozen=True)
class Diff:
    """Two points of one assessment compared."""

    before: Point
    after: Point
    answers: list[AnswerChange] = field(default_factory=list)

    @property
    def primary_changed(self) -> bool:
        """Whether the recommended approach differs."""
        return self.before.outcome.primary != self.after.outcome.primary

    @property
    def score_changes(self) -> list[tuple[str, float, float]]:
        """(approach, before, after) for every score that moved, largest move first."""
        before, after = self.before.outcome.scores, self.after.outcome.scores
        moved = [
            (a, before.get(a, 0.0), after.get(a, 0.0))
            for a in dict.fromkeys([*before, *after])
            if round(before.get(a, 0.0) - after.get(a, 0.0), 6) != 0
        ]
        return sorted(moved, key=lambda m: -abs(m[2] - m[1]))

    def as_json(self) -> dict[str, Any]:
        """The contract's shape: `{answers: [{question, before, after}], recommendation}`."""
        return {
            "from": self.before.key,
            "to": self.after.key,
            "answers": [
                {"question": c.question, "before": c.before, "after": c.after} for c in self.answers
            ],
            "recommendation": {
                "before": self.before.outcome.as_json(),
                "after": self.after.outcome.as_json(),
            },
        }


def _rows(session: Session, assessment_id: str) -> list[tuple[str, Any, datetime, str | None]]:
    """Every answer change, oldest first: (question, value, when, author's email)."""
    rows = session.execute(
        select(Answer.question_id, Answer.value, Answer.created_at, User.email)
        .outerjoin(User, User.id == Answer.author_id)
        .where(Answer.assessment_id == assessment_id)
        .order_by(Answer.id)
    )
    return [(q, v, at, email) for q, v, at, email in rows]


def revisions(*, session: Session, caller: Caller, assessment_id: str) -> list[Revision]:
    """The timeline: one revision per answer change, oldest first."""
    require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    return [
        Revision(number, at, author, [question], value)
        for number, (question, value, at, author) in enumerate(
            _rows(session, assessment_id), start=1
        )
    ]


def _answers_at(rows: list[tuple[str, Any, datetime, str | None]], revision: int) -> dict[str, Any]:
    """The answers as they stood after `revision` changes."""
    answers: dict[str, Any] = {}
    for question, value, _, _ in rows[:revision]:
        answers[question] = value
    return answers


def decide_on(answers: Mapping[str, Any]) -> Recommendation:
    """The engine's recommendation for a set of answers, as the result page would give it."""
    _, counted = walk(answers)
    return recommend(Profile.model_validate(counted))


def _point(session: Session, assessment_id: str, name: str, rows: list[Any], field: str) -> Point:
    """The point a diff's `from` or `to` names; `ReviewError` naming `field` if none."""
    if name == CURRENT:
        name = str(len(rows))
    if name.startswith(MILESTONE_PREFIX) and name[1:].isdigit():
        milestone = session.get(Milestone, int(name[1:]))
        if milestone is None or milestone.assessment_id != assessment_id:
            raise ReviewError(field, f"this assessment has no milestone {name!r}")
        outcome = (
            Outcome.of(milestone.recommendation)
            if milestone.recommendation is not None
            else Outcome.of(decide_on(milestone.answers))
        )
        return Point(f"milestone “{milestone.name}”", name, dict(milestone.answers), outcome)
    if not name.isdigit() or int(name) > len(rows):
        raise ReviewError(
            field,
            f"{name!r} is not a revision of this assessment: give 0 to {len(rows)}, {CURRENT!r},"
            f" or a milestone as {MILESTONE_PREFIX}<id>",
        )
    answers = _answers_at(rows, int(name))
    return Point(f"revision {int(name)}", str(int(name)), answers, Outcome.of(decide_on(answers)))


def diff(*, session: Session, caller: Caller, assessment_id: str, before: str, after: str) -> Diff:
    """The answers that differ between two points, side by side, and both recommendations."""
    require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    rows = _rows(session, assessment_id)
    old = _point(session, assessment_id, before.strip(), rows, "from")
    new = _point(session, assessment_id, after.strip(), rows, "to")
    questions = sorted({*old.answers, *new.answers}, key=lambda q: (_ORDER.get(q, len(_ORDER)), q))
    changes = [
        AnswerChange(q, _title(q), old.answers.get(q), new.answers.get(q))
        for q in questions
        if old.answers.get(q) != new.answers.get(q) or (q in old.answers) != (q in new.answers)
    ]
    return Diff(old, new, changes)


def _title(question_id: str) -> str:
    """A question's title, or its id if the bank no longer has it."""
    found = next((q for q in BANK.questions if q.id == question_id), None)
    return question_id if found is None else found.title


@dataclass(frozen=True)
class MilestoneInfo:
    """A milestone as listed."""

    id: int
    name: str
    revision: int
    ruleset: str
    primary: str | None
    by: str | None
    created_at: datetime

    @property
    def key(self) -> str:
        """How a diff names it."""
        return f"{MILESTONE_PREFIX}{self.id}"


def create_milestone(
    *, session: Session, caller: Caller, assessment_id: str, name: str
) -> MilestoneInfo:
    """Freeze the assessment's current answers and recommendation under a name (unique per
    assessment): anyone who may read it."""
    require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise ReviewError("name", f"give the milestone a name of 1 to {NAME_MAX} characters")
    state = assessments.assessment_state(
        session=session, caller=caller, assessment_id=assessment_id
    )
    recommendation = assessments.current_recommendation(session=session, state=state)
    actor = signed_in(session=session, caller=caller)
    row = Milestone(
        assessment_id=assessment_id,
        name=name,
        revision=len(_rows(session, assessment_id)),
        answers=dict(state.answers),
        ruleset=recommendation.ruleset,
        recommendation=recommendation.model_dump(mode="json"),
        created_by=actor,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise ReviewError(
            "name", f"this assessment already has a milestone named {name!r}", status=409
        ) from None
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=actor,
        action="milestone_created",
        detail={"milestone": row.id, "name": name, "revision": row.revision},
    )
    return _milestone_info(row, None)


def _milestone_info(row: Milestone, email: str | None) -> MilestoneInfo:
    primary = None if row.recommendation is None else row.recommendation.get("primary")
    return MilestoneInfo(
        row.id, row.name, row.revision, row.ruleset, primary, email, row.created_at
    )


def milestones(*, session: Session, caller: Caller, assessment_id: str) -> list[MilestoneInfo]:
    """The assessment's milestones, oldest first."""
    require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    rows = session.execute(
        select(Milestone, User.email)
        .outerjoin(User, User.id == Milestone.created_by)
        .where(Milestone.assessment_id == assessment_id)
        .order_by(Milestone.id)
    )
    return [_milestone_info(row, email) for row, email in rows]


@dataclass(frozen=True)
class RulesetUpgrade:
    """A saved recommendation decided under an older ruleset, and what the current one says."""

    stored_ruleset: str
    current_ruleset: str
    stored: Outcome
    current: Outcome

    @property
    def primary_changed(self) -> bool:
        """Whether the current ruleset would recommend another approach."""
        return self.stored.primary != self.current.primary

    def as_diff(self, answers: dict[str, Any]) -> Diff:
        """The two recommendations as a diff of the same answers."""
        return Diff(
            Point(f"ruleset {self.stored_ruleset}", "stored", answers, self.stored),
            Point(f"ruleset {self.current_ruleset}", "current", answers, self.current),
        )


def ruleset_upgrade(
    *, session: Session, caller: Caller, assessment_id: str, viewer: ReviewCaller | None = None
) -> RulesetUpgrade | None:
    """When the assessment's stored recommendation was decided under another ruleset than the
    engine's: both outcomes. None when it is current (or nothing is stored)."""
    if viewer is None or viewer.assessment_id != assessment_id:
        viewer = require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    if viewer.status == "in_progress":
        return None
    # The newest snapshot's ruleset first (one indexed row); its JSON only when it is stale.
    newest = (
        select(RecommendationSnapshot.id, RecommendationSnapshot.ruleset)
        .where(RecommendationSnapshot.assessment_id == assessment_id)
        .order_by(RecommendationSnapshot.id.desc())
        .limit(1)
    )
    stored = session.execute(newest).first()
    if stored is None or stored.ruleset == BANK.version:
        return None
    recommendation = session.get_one(RecommendationSnapshot, stored.id).recommendation
    state = assessments.assessment_state(
        session=session, caller=caller, assessment_id=assessment_id
    )
    fresh = recommend(state.profile)
    return RulesetUpgrade(
        stored.ruleset, fresh.ruleset, Outcome.of(recommendation), Outcome.of(fresh)
    )


def redecide(*, session: Session, caller: Caller, assessment_id: str) -> RulesetUpgrade | None:
    """Decide the assessment again under the current ruleset: a new snapshot beside the old one
    (which stays, with any approval given on it). What changed, or None if nothing was stale."""
    upgrade = ruleset_upgrade(session=session, caller=caller, assessment_id=assessment_id)
    if upgrade is None:
        return None
    assessments.complete_assessment(session=session, caller=caller, assessment_id=assessment_id)
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=signed_in(session=session, caller=caller),
        action="redecided",
        detail={
            "from_ruleset": upgrade.stored_ruleset,
            "to_ruleset": upgrade.current_ruleset,
            "primary_before": upgrade.stored.primary,
            "primary_after": upgrade.current.primary,
        },
    )
    return upgrade
