"""Assessments: create, answer (every change kept as a revision), decide, snapshot.

The step page and the answer post are the hot paths: they read an assessment and its current
answers with column queries, and never load ORM entities or run the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, bindparam, insert, select, update
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


# Built once: constructing a statement costs more than running it on the hot paths.
_RECORD = select(
    Assessment.id,
    Assessment.title,
    Assessment.status,
    Assessment.ruleset,
    Assessment.created_at,
    Assessment.updated_at,
).where(Assessment.id == bindparam("assessment_id"))
_CURRENT_ANSWERS = (
    select(Answer.question_id, Answer.value)
    .where(Answer.assessment_id == bindparam("assessment_id"), Answer.is_current)
    .order_by(Answer.id)
)


def assessment_state(*, session: Session, assessment_id: str) -> AssessmentState:
    """The assessment and its current answers, read with two indexed column queries."""
    # Core execution on the session's connection: same transaction, without the ORM layer.
    # Two small queries beat one join, which would repeat (and re-parse) the timestamps per answer.
    connection = session.connection()
    key = {"assessment_id": assessment_id}
    row = connection.execute(_RECORD, key).first()
    if row is None:
        raise AssessmentNotFound(assessment_id)
    answers = {
        question_id: value for question_id, value in connection.execute(_CURRENT_ANSWERS, key)
    }
    visible, counted = walk(answers)
    return AssessmentState(AssessmentRecord(*row), answers, visible, counted)


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


# Bind names differ from column names: SQLAlchemy reserves those for the SET/VALUES clauses.
_TOUCH = (
    update(Assessment)
    .where(Assessment.id == bindparam("b_assessment"))
    .values(updated_at=bindparam("b_now"))
    .returning(Assessment.status)
)
_RETIRE = (
    update(Answer)
    .where(
        Answer.assessment_id == bindparam("b_assessment"),
        Answer.question_id == bindparam("b_question"),
        Answer.is_current,
    )
    .values(is_current=False)
)
_ADD = insert(Answer).values(
    assessment_id=bindparam("b_assessment"),
    question_id=bindparam("b_question"),
    value=bindparam("b_value", type_=JSON),
    is_current=True,
    created_at=bindparam("b_now"),
)


def record_answer(*, session: Session, assessment_id: str, question_id: str, value: Any) -> None:
    """Store a new current revision of one answer (already parsed by the bank)."""
    connection = session.connection()
    key = {"b_assessment": assessment_id, "b_question": question_id, "b_now": utcnow()}
    status = connection.execute(_TOUCH, key).scalar_one_or_none()
    if status is None:
        raise AssessmentNotFound(assessment_id)
    connection.execute(_RETIRE, key)
    connection.execute(_ADD, {**key, "b_value": value})
    if status == "completed":
        # The stored result follows the answers, keeping every earlier snapshot.
        state = assessment_state(session=session, assessment_id=assessment_id)
        _snapshot(session=session, state=state)


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
