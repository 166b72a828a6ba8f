"""Assessments: create, answer (every change kept as a revision), decide, snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.decision.bank import BANK, profile_from_answers, visible_questions
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
class AssessmentState:
    """An assessment with its current answers, the branch they take, and the decision."""

    assessment: Assessment
    answers: dict[str, Any]
    applicable: tuple[str, ...]
    next_question: str | None
    profile: Profile
    recommendation: Recommendation

    @property
    def not_applicable(self) -> tuple[str, ...]:
        """Answered questions on branches no longer taken: kept, but not used."""
        return tuple(q for q in self.answers if q not in self.applicable)


def create_assessment(
    *, session: Session, title: str | None = None, answers: dict[str, Any] | None = None
) -> Assessment:
    """Start an assessment, optionally with answers already parsed by the bank."""
    assessment = Assessment(ruleset=BANK.version, title=title)
    session.add(assessment)
    for question_id, value in (answers or {}).items():
        session.add(Answer(assessment=assessment, question_id=question_id, value=value))
    session.flush()
    return assessment


def get_assessment(*, session: Session, assessment_id: str) -> Assessment:
    """Load one assessment or raise `AssessmentNotFound`."""
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise AssessmentNotFound(assessment_id)
    return assessment


def current_answers(*, session: Session, assessment_id: str) -> dict[str, Any]:
    """The current revision of every answered question, in answer order."""
    rows = session.execute(
        select(Answer.question_id, Answer.value)
        .where(Answer.assessment_id == assessment_id, Answer.is_current)
        .order_by(Answer.id)
    )
    return {question_id: value for question_id, value in rows}


def answer_history(*, session: Session, assessment_id: str) -> list[Answer]:
    """Every revision of every answer, oldest first."""
    get_assessment(session=session, assessment_id=assessment_id)
    return list(
        session.scalars(
            select(Answer).where(Answer.assessment_id == assessment_id).order_by(Answer.id)
        )
    )


def record_answer(*, session: Session, assessment_id: str, question_id: str, value: Any) -> None:
    """Store a new current revision of one answer, already parsed by the bank."""
    assessment = get_assessment(session=session, assessment_id=assessment_id)
    session.execute(
        update(Answer)
        .where(
            Answer.assessment_id == assessment.id,
            Answer.question_id == question_id,
            Answer.is_current,
        )
        .values(is_current=False)
    )
    session.add(Answer(assessment_id=assessment.id, question_id=question_id, value=value))
    assessment.updated_at = utcnow()
    if assessment.status == "completed":
        session.flush()
        _snapshot(session=session, assessment=assessment)


def assessment_state(*, session: Session, assessment_id: str) -> AssessmentState:
    """The assessment with answers, branch, profile and recommendation worked out."""
    assessment = get_assessment(session=session, assessment_id=assessment_id)
    answers = current_answers(session=session, assessment_id=assessment_id)
    visible = visible_questions(answers)
    applicable = tuple(q.id for q in visible if q.id in answers)
    next_question = next((q.id for q in visible if q.id not in answers), None)
    profile = profile_from_answers(answers)
    snapshot = latest_snapshot(session=session, assessment_id=assessment_id)
    recommendation = (
        Recommendation.model_validate(snapshot.recommendation)
        if snapshot is not None
        else recommend(profile)
    )
    return AssessmentState(assessment, answers, applicable, next_question, profile, recommendation)


def complete_assessment(*, session: Session, assessment_id: str) -> RecommendationSnapshot:
    """Mark the assessment completed and store the recommendation as it stands now."""
    assessment = get_assessment(session=session, assessment_id=assessment_id)
    assessment.status = "completed"
    assessment.updated_at = utcnow()
    return _snapshot(session=session, assessment=assessment)


def latest_snapshot(*, session: Session, assessment_id: str) -> RecommendationSnapshot | None:
    """The newest stored recommendation of an assessment, if it was ever completed."""
    return session.scalars(
        select(RecommendationSnapshot)
        .where(RecommendationSnapshot.assessment_id == assessment_id)
        .order_by(RecommendationSnapshot.id.desc())
        .limit(1)
    ).first()


def _snapshot(*, session: Session, assessment: Assessment) -> RecommendationSnapshot:
    """Decide on the current answers and keep the result beside the profile it used."""
    answers = current_answers(session=session, assessment_id=assessment.id)
    profile = profile_from_answers(answers)
    recommendation = recommend(profile)
    snapshot = RecommendationSnapshot(
        assessment_id=assessment.id,
        ruleset=recommendation.ruleset,
        profile=profile.model_dump(mode="json", exclude_none=True),
        recommendation=recommendation.model_dump(mode="json"),
    )
    session.add(snapshot)
    session.flush()
    return snapshot
