"""JSON API: decide on a profile, and create, answer and read assessments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.decision.bank import parse_answer
from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.services import assessments
from app.services.access import Caller
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import documented

router = APIRouter(
    prefix="/api",
    tags=["api"],
    responses=documented(422, "Bad input: each problem names its field and the allowed values."),
)


class NewAssessment(BaseModel):
    """Body of `POST /api/assessments`: everything optional."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)
    team: str | None = Field(
        default=None, description="A team of yours to own it (signed in); members edit it."
    )
    answers: dict[str, Any] = Field(
        default_factory=dict, description="Answers to give at once, by question id."
    )


class Rename(BaseModel):
    """Body of `PATCH /api/assessments/{id}`: the new title (null or blank: none)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(max_length=200)


class AnswerIn(BaseModel):
    """Body of `PUT /api/assessments/{id}/answers/{question}`; null means "not sure"."""

    model_config = ConfigDict(extra="forbid")

    value: Any = Field(description="The answer in the question's type; null for 'not sure'.")


class AnswerRevision(BaseModel):
    """One stored revision of one answer."""

    question: str
    value: Any
    at: datetime


class AssessmentOut(BaseModel):
    """An assessment as the API shows it."""

    id: str
    title: str | None
    status: str
    ruleset: str
    created_at: datetime
    updated_at: datetime
    answers: dict[str, Any] = Field(description="Current answer per question id.")
    not_applicable: list[str] = Field(
        description="Answered questions on branches no longer taken: kept, not used."
    )
    next_question: str | None = Field(description="The next unanswered question, if any.")
    profile: Profile
    recommendation: Recommendation


class CreatedAssessment(AssessmentOut):
    """A new assessment, with its edit key: shown this once, never again."""

    edit_key: str = Field(
        description="The assessment's edit key: send it as `Authorization: Bearer <key>`."
        " It is shown only here; the server keeps only its hash."
    )


def _assessment_out(session: Session, credentials: Caller, assessment_id: str) -> dict[str, Any]:
    """Read an assessment (if the caller may) and shape it for the API."""
    state = assessments.assessment_state(
        session=session, caller=credentials, assessment_id=assessment_id
    )
    a = state.assessment
    return dict(
        id=a.id,
        title=a.title,
        status=a.status,
        ruleset=a.ruleset,
        created_at=a.created_at,
        updated_at=a.updated_at,
        answers=state.answers,
        not_applicable=list(state.not_applicable),
        next_question=state.next_question,
        profile=state.profile,
        recommendation=assessments.current_recommendation(session=session, state=state),
    )


NOT_FOUND = documented(404, "No assessment with that id, or not with your key.")
NOT_YOURS_TO_MANAGE = {
    **NOT_FOUND,
    **documented(403, "A member of the owning team without the role this needs."),
}


@router.post("/recommend", response_model=Recommendation)
def post_recommend(profile: Profile) -> Recommendation:
    """Decide on one profile; nothing is stored."""
    return recommend(profile)


@router.post(
    "/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedAssessment | AssessmentOut,
    responses=documented(404, "No team of yours has the id given as `team`."),
)
def post_assessment(body: NewAssessment, request: Request) -> CreatedAssessment | AssessmentOut:
    """Start an assessment, optionally with some answers already given.

    Anonymous, the answer carries the assessment's `edit_key`, once: every other call about
    this assessment needs it as `Authorization: Bearer <edit_key>`. Signed in (a personal API
    token), you own it, or the `team` does, and there is no key to keep.
    """
    answers = {
        question_id: parse_answer(question_id, raw) for question_id, raw in body.answers.items()
    }
    with transaction(request) as session:
        created = assessments.create_assessment(
            session=session,
            caller=caller(request),
            title=body.title,
            answers=answers,
            team_id=body.team,
        )
        shown = _assessment_out(session, Caller(bearer=created.edit_key), created.id)
    if created.owned:
        return AssessmentOut(**shown)
    return CreatedAssessment(**shown, edit_key=created.edit_key)


@router.get("/assessments/{assessment_id}", response_model=AssessmentOut, responses=NOT_FOUND)
def get_assessment(assessment_id: str, request: Request) -> AssessmentOut:
    """Answers, profile and recommendation of one assessment."""
    with transaction(request) as session:
        return AssessmentOut(**_assessment_out(session, caller(request), assessment_id))


@router.put(
    "/assessments/{assessment_id}/answers/{question_id}",
    response_model=AssessmentOut,
    responses=NOT_FOUND,
)
def put_answer(
    assessment_id: str, question_id: str, body: AnswerIn, request: Request
) -> AssessmentOut:
    """Give or change one answer; the old value stays in the history."""
    value = parse_answer(question_id, body.value)
    credentials = caller(request)
    with transaction(request) as session:
        assessments.record_answer(
            session=session,
            caller=credentials,
            assessment_id=assessment_id,
            question_id=question_id,
            value=value,
        )
        return AssessmentOut(**_assessment_out(session, credentials, assessment_id))


@router.get(
    "/assessments/{assessment_id}/history",
    response_model=list[AnswerRevision],
    responses=NOT_FOUND,
)
def get_history(assessment_id: str, request: Request) -> list[AnswerRevision]:
    """Every revision of every answer, oldest first."""
    with transaction(request) as session:
        history = assessments.answer_history(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return [AnswerRevision(question=a.question_id, value=a.value, at=a.created_at) for a in history]


@router.post(
    "/assessments/{assessment_id}/complete", response_model=AssessmentOut, responses=NOT_FOUND
)
def post_complete(assessment_id: str, request: Request) -> AssessmentOut:
    """Mark the assessment completed and snapshot its recommendation."""
    credentials = caller(request)
    with transaction(request) as session:
        assessments.complete_assessment(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        return AssessmentOut(**_assessment_out(session, credentials, assessment_id))


@router.patch(
    "/assessments/{assessment_id}", response_model=AssessmentOut, responses=NOT_YOURS_TO_MANAGE
)
def patch_assessment(assessment_id: str, body: Rename, request: Request) -> AssessmentOut:
    """Rename the assessment: its key holder, owning user or any member of its team."""
    credentials = caller(request)
    with transaction(request) as session:
        assessments.rename_assessment(
            session=session, caller=credentials, assessment_id=assessment_id, title=body.title
        )
        return AssessmentOut(**_assessment_out(session, credentials, assessment_id))


@router.delete(
    "/assessments/{assessment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_YOURS_TO_MANAGE,
)
def delete_assessment(assessment_id: str, request: Request) -> Response:
    """Delete the assessment with its answers, snapshots and share links: its key holder,
    owning user or a team owner."""
    with transaction(request) as session:
        assessments.delete_assessment(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
