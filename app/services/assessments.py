"""Assessments: create, answer (every change kept as a revision), decide, snapshot.

The step page and the answer post are the hot paths: they read an assessment and its current
answers in one column query, and never load ORM entities or run the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from app.decision.bank import BANK, Question, walk
from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.models import Answer, Assessment, RecommendationSnapshot, utcnow


class AssessmentNotFound(LookupError):
    """No assessment has that id (or the caller may not see it)."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__(f"no assessment with id {assessment_id!r}")
        self.assessment_id = assessment_id


@dataclass(frozen=True)
class AssessmentRecord:
    """The stored columns of one assessment."""

    id: str
    title: str | None
    status: str
    ruleset: str
    created_at: datetime
    updated_at: datetime


@dataclass
class AssessmentState:
    """An assessment with its current answers and the branch they take."""

    assessment: AssessmentRecord
    answers: dict[str, Any]
    visible: list[Question]
    counted: dict[str, Any] = field(repr=False)

    @property
    def applicable(self) -> tuple[str, ...]:
        """Answered questions on the branch taken."""
        return tuple(q.id for q in self.visible if q.id in self.answers)

    @property
    def not_applicable(self) -> tuple[str, ...]:
        """Answered questions on branches no longer taken: kept, but not used."""
        shown = {q.id for q in self.visible}
        return tuple(q for q in self.answers if q not in shown)

    @property
    def next_question(self) -> str | None:
        """The first unanswered question on the branch, if any."""
        return next((q.id for q in self.visible if q.id not in self.answers), None)

    @cached_property
    def profile(self) -> Profile:
        """The profile the counted answers make."""
        return Profile.model_validate(self.counted)


_STATE_COLUMNS = (
    Assessment.id,
    Assessment.title,
    Assessment.status,
    Assessment.ruleset,
    Assessment.created_at,
    Assessment.updated_at,
)


def assessment_state(*, session: Session, assessment_id: str) -> AssessmentState:
    """The assessment and its current answers, read in one query."""
    rows = session.execute(
        select(*_STATE_COLUMNS, Answer.question_id, Answer.value)
        .outerjoin(Answer, and_(Answer.assessment_id == Assessment.id, Answer.is_current))
        .where(Assessment.id == assessment_id)
        .order_by(Answer.id)
    ).all()
    if not rows:
        raise AssessmentNotFound(assessment_id)
    record = AssessmentRecord(*rows[0][:6])
    answers = {row[6]: row[7] for row in rows if row[6] is not None}
    visible, counted = walk(answers)
    return AssessmentState(record, answers, visible, counted)


def create_assessment(
    *, session: Session, title: str | None = None, answers: dict[str, Any] | None = None
) -> str:
    """Start an assessment, optionally with answers already parsed by the bank; its id."""
    assessment = Assessment(ruleset=BANK.version, title=title)
    session.add(assessment)
    session.flush()
    for question_id, value in (answers or {}).items():
        session.add(Answer(assessment_id=assessment.id, question_id=question_id, value=value))
    return assessment.id


def record_answer(*, session: Session, assessment_id: str, question_id: str, value: Any) -> None:
    """Store a new current revision of one answer (already parsed by the bank)."""
    status = session.execute(
        update(Assessment)
        .where(Assessment.id == assessment_id)
        .values(updated_at=utcnow())
        .returning(Assessment.status)
    ).scalar_one_or_none()
    if status is None:
        raise AssessmentNotFound(assessment_id)
    session.execute(
        update(Answer)
        .where(
            Answer.assessment_id == assessment_id,
            Answer.question_id == question_id,
            Answer.is_current,
        )
        .values(is_current=False)
    )
    session.execute(
        insert(Answer).values(
            assessment_id=assessment_id,
            question_id=question_id,
            value=value,
            is_current=True,
            created_at=utcnow(),
        )
    )
    if status == "completed":
        # The stored result follows the answers, keeping every earlier snapshot.
        _snapshot(
            session=session, state=assessment_state(session=session, assessment_id=assessment_id)
        )


def answer_history(*, session: Session, assessment_id: str) -> list[Answer]:
    """Every revision of every answer, oldest first."""
    assessment_state(session=session, assessment_id=assessment_id)
    return list(
        session.scalars(
            select(Answer).where(Answer.assessment_id == assessment_id).order_by(Answer.id)
        )
    )


def complete_assessment(*, session: Session, assessment_id: str) -> Recommendation:
    """Mark the assessment completed and store the recommendation as it stands now."""
    state = assessment_state(session=session, assessment_id=assessment_id)
    session.execute(
        update(Assessment)
        .where(Assessment.id == assessment_id)
        .values(status="completed", updated_at=utcnow())
    )
    return _snapshot(session=session, state=state)


def current_recommendation(*, session: Session, state: AssessmentState) -> Recommendation:
    """The stored recommendation of a completed assessment, else a fresh one."""
    if state.assessment.status == "completed":
        stored = session.execute(
            select(RecommendationSnapshot.recommendation)
            .where(RecommendationSnapshot.assessment_id == state.assessment.id)
            .order_by(RecommendationSnapshot.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if stored is not None:
            return Recommendation.model_validate(stored)
    return recommend(state.profile)


def _snapshot(*, session: Session, state: AssessmentState) -> Recommendation:
    """Decide on the current answers and keep the result beside the profile it used."""
    recommendation = recommend(state.profile)
    session.add(
        RecommendationSnapshot(
            assessment_id=state.assessment.id,
            ruleset=recommendation.ruleset,
            profile=state.profile.model_dump(mode="json", exclude_none=True),
            recommendation=recommendation.model_dump(mode="json"),
        )
    )
    return recommendation
