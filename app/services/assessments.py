"""Assessments: create, answer (every change kept as a revision), decide, snapshot.

The step page and the answer post are the hot paths: they read an assessment and its current
answers with two indexed statements (`app.storage.hot`) and never run the engine. The
functions they call take either a Session or the hot routes' lean transaction (docs/adr/0001);
everything else goes through the ordinary Session API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.decision.bank import BANK, Question, walk
from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.models import Answer, Assessment, RecommendationSnapshot, new_token, utcnow
from app.storage import hot


class AssessmentNotFound(LookupError):
    """No assessment has that id (or the caller may not see it)."""

    def __init__(self, assessment_id: str) -> None:
        super().__init__(f"no assessment with id {assessment_id!r}")
        self.assessment_id = assessment_id


AssessmentRecord = hot.AssessmentRow  # one assessment; `updated_at` counts its newest answer


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


def assessment_state(*, session: hot.Transaction, assessment_id: str) -> AssessmentState:
    """The assessment and its current answers, read with two indexed statements."""
    # Two small queries beat one join, which would repeat (and re-parse) the timestamps per answer.
    record = hot.assessment_row(session, assessment_id)
    if record is None:
        raise AssessmentNotFound(assessment_id)
    answers = hot.current_answers(session, assessment_id)
    visible, counted = walk(answers)
    return AssessmentState(record, answers, visible, counted)


def current_answers(*, session: hot.Transaction, assessment_id: str) -> dict[str, Any]:
    """The current answer to each answered question, in the order they were first given."""
    return hot.current_answers(session, assessment_id)


def create_assessment(
    *, session: Session, title: str | None = None, answers: dict[str, Any] | None = None
) -> str:
    """Start an assessment, optionally with answers already parsed by the bank; its id."""
    now = utcnow()
    assessment = Assessment(
        id=new_token(),
        title=title,
        ruleset=BANK.version,
        status="in_progress",
        created_at=now,
        updated_at=now,
        answers=[
            Answer(question_id=question_id, value=value, is_current=True, created_at=now)
            for question_id, value in (answers or {}).items()
        ],
    )
    session.add(assessment)
    session.flush()
    return assessment.id


def record_answer(
    *, session: hot.Transaction, assessment_id: str, question_id: str, value: Any
) -> None:
    """Store a new current revision of one answer (already parsed by the bank)."""
    status = hot.assessment_status(session, assessment_id, for_update=True)
    if status is None:
        raise AssessmentNotFound(assessment_id)
    hot.add_answer(
        session, assessment_id=assessment_id, question_id=question_id, value=value, now=utcnow()
    )
    if status == "completed":
        # The stored result follows the answers, keeping every earlier snapshot.
        _snapshot(
            session=session, state=assessment_state(session=session, assessment_id=assessment_id)
        )


def answer_history(*, session: Session, assessment_id: str) -> list[StoredAnswer]:
    """Every revision of every answer, oldest first."""
    if session.get(Assessment, assessment_id) is None:
        raise AssessmentNotFound(assessment_id)
    rows = session.execute(
        select(Answer.question_id, Answer.value, Answer.created_at)
        .where(Answer.assessment_id == assessment_id)
        .order_by(Answer.id)
    )
    return [StoredAnswer(*row) for row in rows]


def complete_assessment(*, session: Session, assessment_id: str) -> Recommendation:
    """Mark the assessment completed and store the recommendation as it stands now."""
    state = assessment_state(session=session, assessment_id=assessment_id)
    assessment = session.get(Assessment, assessment_id)
    assert assessment is not None  # just read
    assessment.status = "completed"
    assessment.updated_at = utcnow()
    return _snapshot(session=session, state=state)


def current_recommendation(*, session: Session, state: AssessmentState) -> Recommendation:
    """The stored recommendation of a completed assessment, else a fresh one."""
    if state.assessment.status == "completed":
        stored = session.scalars(
            select(RecommendationSnapshot.recommendation)
            .where(RecommendationSnapshot.assessment_id == state.assessment.id)
            .order_by(RecommendationSnapshot.id.desc())
            .limit(1)
        ).first()
        if stored is not None:
            return Recommendation.model_validate(stored)
    return recommend(state.profile)


def _snapshot(*, session: hot.Transaction, state: AssessmentState) -> Recommendation:
    """Decide on the current answers and keep the result beside the profile it used."""
    recommendation = recommend(state.profile)
    hot.add_snapshot(
        session,
        assessment_id=state.assessment.id,
        ruleset=recommendation.ruleset,
        profile=state.profile.model_dump(mode="json", exclude_none=True),
        recommendation=recommendation.model_dump(mode="json"),
        now=utcnow(),
    )
    return recommendation
