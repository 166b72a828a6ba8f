"""Assessments: create, answer (every change kept as a revision), decide, snapshot.

The step page and the answer post are the hot paths: they read an assessment and its current
answers with two indexed column queries and never run the engine. Every statement is built once
and runs on the driver connection (see `app.db`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import JSON, bindparam, func, insert, select, update

from app.db import Db, Statement
from app.decision.bank import BANK, Question, walk
from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.models import Answer, Assessment, RecommendationSnapshot, new_token, utcnow


class AssessmentNotFound(LookupError):
    """No assessment has that id (or the caller may not see it)."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__(f"no assessment with id {assessment_id!r}")
        self.assessment_id = assessment_id


@dataclass(frozen=True)
class AssessmentRecord:
    """One assessment; `updated_at` is its last change, its newest answer included."""

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


@dataclass(frozen=True)
class StoredAnswer:
    """One stored revision of one answer."""

    question_id: str
    value: Any
    created_at: datetime


# An answer does not rewrite its assessment's row (one write fewer on the busiest write): the
# assessment changed last when its row did (created, completed) or its newest answer was given.
# The newest revision is always a current one, so the partial index of current answers finds
# it among at most one row per question, however many revisions pile up.
_revision = Answer.__table__.alias("revision")
_NEWEST_ANSWER_AT = (
    select(Answer.created_at)
    .where(
        Answer.id
        == select(func.max(_revision.c.id))
        .where(_revision.c.assessment_id == Assessment.id, _revision.c.is_current)
        .correlate(Assessment)
        .scalar_subquery()
    )
    .scalar_subquery()
)
_RECORD = Statement(
    select(
        Assessment.id,
        Assessment.title,
        Assessment.status,
        Assessment.ruleset,
        Assessment.created_at,
        Assessment.updated_at,
        _NEWEST_ANSWER_AT,
    ).where(Assessment.id == bindparam("b_assessment"))
)
_STATUS = Statement(select(Assessment.status).where(Assessment.id == bindparam("b_assessment")))
_CURRENT_ANSWERS = Statement(
    select(Answer.question_id, Answer.value)
    .where(Answer.assessment_id == bindparam("b_assessment"), Answer.is_current)
    .order_by(Answer.id)
)
_HISTORY = Statement(
    select(Answer.question_id, Answer.value, Answer.created_at)
    .where(Answer.assessment_id == bindparam("b_assessment"))
    .order_by(Answer.id)
)
# Bind names differ from column names: SQLAlchemy reserves those for the SET/VALUES clauses.
_CREATE = Statement(
    insert(Assessment).values(
        id=bindparam("b_assessment"),
        title=bindparam("b_title"),
        ruleset=bindparam("b_ruleset"),
        status="in_progress",
        created_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
    )
)
_COMPLETE = Statement(
    update(Assessment)
    .where(Assessment.id == bindparam("b_assessment"))
    .values(status="completed", updated_at=bindparam("b_now"))
)
_RETIRE = Statement(
    update(Answer)
    .where(
        Answer.assessment_id == bindparam("b_assessment"),
        Answer.question_id == bindparam("b_question"),
        Answer.is_current,
    )
    .values(is_current=False)
)
_ADD = Statement(
    insert(Answer).values(
        assessment_id=bindparam("b_assessment"),
        question_id=bindparam("b_question"),
        value=bindparam("b_value", type_=JSON),
        is_current=True,
        created_at=bindparam("b_now"),
    )
)
_LATEST_SNAPSHOT = Statement(
    select(RecommendationSnapshot.recommendation)
    .where(RecommendationSnapshot.assessment_id == bindparam("b_assessment"))
    .order_by(RecommendationSnapshot.id.desc())
    .limit(1)
)
_SNAPSHOT = Statement(
    insert(RecommendationSnapshot).values(
        assessment_id=bindparam("b_assessment"),
        ruleset=bindparam("b_ruleset"),
        profile=bindparam("b_profile", type_=JSON),
        recommendation=bindparam("b_recommendation", type_=JSON),
        created_at=bindparam("b_now"),
    )
)


def assessment_state(*, db: Db, assessment_id: str) -> AssessmentState:
    """The assessment and its current answers, read with two indexed column queries."""
    # Two small queries beat one join, which would repeat (and re-parse) the timestamps per answer.
    row = _RECORD.first(db, b_assessment=assessment_id)
    if row is None:
        raise AssessmentNotFound(assessment_id)
    id_, title, status, ruleset, created_at, updated_at, answered_at = row
    if answered_at is not None and answered_at > updated_at:
        updated_at = answered_at
    record = AssessmentRecord(id_, title, status, ruleset, created_at, updated_at)
    answers = current_answers(db=db, assessment_id=assessment_id)
    visible, counted = walk(answers)
    return AssessmentState(record, answers, visible, counted)


def current_answers(*, db: Db, assessment_id: str) -> dict[str, Any]:
    """The current answer to each answered question, in the order they were first given."""
    return dict(_CURRENT_ANSWERS.rows(db, b_assessment=assessment_id))


def create_assessment(
    *, db: Db, title: str | None = None, answers: dict[str, Any] | None = None
) -> str:
    """Start an assessment, optionally with answers already parsed by the bank; its id."""
    assessment_id = new_token()
    now = utcnow()
    _CREATE.rows(db, b_assessment=assessment_id, b_title=title, b_ruleset=BANK.version, b_now=now)
    for question_id, value in (answers or {}).items():
        _ADD.rows(db, b_assessment=assessment_id, b_question=question_id, b_value=value, b_now=now)
    return assessment_id


def record_answer(*, db: Db, assessment_id: str, question_id: str, value: Any) -> None:
    """Store a new current revision of one answer (already parsed by the bank)."""
    found = _STATUS.first(db, b_assessment=assessment_id)
    if found is None:
        raise AssessmentNotFound(assessment_id)
    key = {"b_assessment": assessment_id, "b_question": question_id, "b_now": utcnow()}
    _RETIRE.rows(db, **key)
    _ADD.rows(db, **key, b_value=value)
    if found[0] == "completed":
        # The stored result follows the answers, keeping every earlier snapshot.
        _snapshot(db=db, state=assessment_state(db=db, assessment_id=assessment_id))


def answer_history(*, db: Db, assessment_id: str) -> list[StoredAnswer]:
    """Every revision of every answer, oldest first."""
    if _STATUS.first(db, b_assessment=assessment_id) is None:
        raise AssessmentNotFound(assessment_id)
    return [StoredAnswer(*row) for row in _HISTORY.rows(db, b_assessment=assessment_id)]


def complete_assessment(*, db: Db, assessment_id: str) -> Recommendation:
    """Mark the assessment completed and store the recommendation as it stands now."""
    state = assessment_state(db=db, assessment_id=assessment_id)
    _COMPLETE.rows(db, b_assessment=assessment_id, b_now=utcnow())
    return _snapshot(db=db, state=state)


def current_recommendation(*, db: Db, state: AssessmentState) -> Recommendation:
    """The stored recommendation of a completed assessment, else a fresh one."""
    if state.assessment.status == "completed":
        stored = _LATEST_SNAPSHOT.first(db, b_assessment=state.assessment.id)
        if stored is not None:
            return Recommendation.model_validate(stored[0])
    return recommend(state.profile)


def _snapshot(*, db: Db, state: AssessmentState) -> Recommendation:
    """Decide on the current answers and keep the result beside the profile it used."""
    recommendation = recommend(state.profile)
    _SNAPSHOT.rows(
        db,
        b_assessment=state.assessment.id,
        b_ruleset=recommendation.ruleset,
        b_profile=state.profile.model_dump(mode="json", exclude_none=True),
        b_recommendation=recommendation.model_dump(mode="json"),
        b_now=utcnow(),
    )
    return recommendation
