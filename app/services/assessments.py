"""Assessments: create, answer (every change kept as a revision), decide, snapshot.

Every function that loads an assessment takes the request's `caller` and checks it through
`app.services.access`: without the assessment's edit key it is `AssessmentNotFound`.

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

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.decision.bank import BANK, Question, walk
from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.models import (
    Answer,
    Assessment,
    RecommendationSnapshot,
    new_secret,
    new_token,
    secret_hash,
    utcnow,
)
from app.services import audit
from app.services.access import (
    ANONYMOUS,
    AssessmentNotFound,
    Caller,
    require_assessment,
    require_owner,
    require_status,
    require_status_and_author,
    require_team,
    signed_in,
)
from app.storage import hot, review_writes

__all__ = ["AssessmentNotFound", "Caller"]  # re-exported: callers of this module use them

AssessmentRecord = hot.AssessmentRow  # one assessment; `updated_at` counts its newest answer
# Statuses whose stored recommendation follows each answer change: decided, not yet approved.
# An approved assessment reopens instead (a new revision in progress, docs/adr/0012).
REDECIDED_ON_ANSWER = frozenset({"completed", "in_review", "changes_requested"})


@dataclass
class AssessmentState:
    """An assessment with its current answers and the branch they take."""

    assessment: AssessmentRecord
    answers: dict[str, Any]
    visible: list[Question]
    counted: dict[str, Any] = field(repr=False)
    # The caller's key that opened it: what the private "continue elsewhere" link carries.
    edit_key: str | None = field(default=None, repr=False)

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


def assessment_state(
    *, session: hot.Transaction, caller: Caller, assessment_id: str
) -> AssessmentState:
    """The assessment and its current answers, read with two indexed statements."""
    # Two small queries beat one join, which would repeat (and re-parse) the timestamps per answer.
    record, edit_key = require_assessment(
        session=session, caller=caller, assessment_id=assessment_id
    )
    return _state(session, record, edit_key)


def state_of(*, session: hot.Transaction, record: AssessmentRecord) -> AssessmentState:
    """The state of an assessment whose row `app.services.access` has handed out already."""
    return _state(session, record)


def _state(
    session: hot.Transaction, record: AssessmentRecord, edit_key: str | None = None
) -> AssessmentState:
    """The state of an assessment whose row was read (and access checked) already."""
    answers = hot.current_answers(session, record.id)
    visible, counted = walk(answers)
    return AssessmentState(record, answers, visible, counted, edit_key)


def current_answers(
    *, session: hot.Transaction, caller: Caller, assessment_id: str
) -> dict[str, Any]:
    """The current answer to each answered question, in the order they were first given."""
    require_status(session=session, caller=caller, assessment_id=assessment_id)
    return hot.current_answers(session, assessment_id)


@dataclass(frozen=True)
class Created:
    """A new assessment's id and its edit key: the only time the key is ever known.

    `owned`: it belongs to the signed-in user or a team, who reach it without the key.
    """

    id: str
    edit_key: str
    owned: bool = False


def create_assessment(
    *,
    session: Session,
    caller: Caller = ANONYMOUS,
    title: str | None = None,
    answers: dict[str, Any] | None = None,
    team_id: str | None = None,
) -> Created:
    """Start an assessment, optionally with answers already parsed by the bank.

    A signed-in caller owns it; with `team_id`, the team does (the caller must be a member:
    else `TeamNotFound`). Anonymous, only its edit key reaches it.
    """
    owner_user_id = author_id = None
    if team_id is not None:
        author_id = require_team(
            session=session, caller=caller, team_id=team_id, role="member", field="team"
        ).user_id
    elif caller.api_token is not None or caller.session_token is not None:
        owner_user_id = author_id = signed_in(session=session, caller=caller)
    now = utcnow()
    edit_key = new_secret()
    assessment = Assessment(
        id=new_token(),
        edit_key_hash=secret_hash(edit_key),
        owner_user_id=owner_user_id,
        author_id=author_id,  # the dashboard's author (docs/adr/0013)
        team_id=team_id,
        title=title,
        ruleset=BANK.version,
        status="in_progress",
        created_at=now,
        updated_at=now,
        answers=[
            Answer(
                question_id=question_id,
                value=value,
                is_current=True,
                created_at=now,
                author_id=author_id,
            )
            for question_id, value in (answers or {}).items()
        ],
    )
    session.add(assessment)
    session.flush()
    return Created(assessment.id, edit_key, owned=bool(owner_user_id or team_id))


def rotate_edit_key(*, session: Session, assessment_id: str) -> str:
    """A new edit key for an assessment; the old one stops working. Operators only (the CLI)."""
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise AssessmentNotFound(assessment_id)
    edit_key = new_secret()
    assessment.edit_key_hash = secret_hash(edit_key)
    return edit_key


def record_answer(
    *,
    session: hot.Transaction,
    caller: Caller,
    assessment_id: str,
    question_id: str,
    value: Any,
    read_back: bool = False,
) -> dict[str, Any]:
    """Store a new current revision of one answer (already parsed by the bank).

    `read_back`: return the current answers afterwards (else an empty dict, unless the
    assessment was completed and had to be decided again anyway).
    """
    status, author_id = require_status_and_author(
        session=session, caller=caller, assessment_id=assessment_id
    )
    now = utcnow()
    hot.add_answer(
        session,
        assessment_id=assessment_id,
        question_id=question_id,
        value=value,
        now=now,
        author_id=author_id,
    )
    if status == "approved":
        # The approval stays on the revision it approved; this one is edited afresh.
        review_writes.reopen(session, assessment_id=assessment_id, now=now)
        audit.record_event(
            session,
            assessment_id=assessment_id,
            actor=author_id,
            action="reopened",
            detail={"question": question_id},
        )
    if status in REDECIDED_ON_ANSWER:
        # The stored result follows the answers, keeping every earlier snapshot.
        record = hot.assessment_row(session, assessment_id)
        assert record is not None  # locked above
        state = _state(session, record.found)
        _snapshot(session=session, state=state)
        return state.answers
    return hot.current_answers(session, assessment_id) if read_back else {}


def record_answers(
    *, session: hot.Transaction, caller: Caller, assessment_id: str, values: dict[str, Any]
) -> None:
    """Store new current revisions of several answers (already parsed by the bank) at once:
    one screen's post. Unchanged answers add no revision; a completed assessment is decided
    again once, after all of them."""
    status = require_status(
        session=session, caller=caller, assessment_id=assessment_id, for_update=True
    )
    current = hot.current_answers(session, assessment_id)
    now = utcnow()
    changed = False
    for question_id, value in values.items():
        if question_id in current and same_answer(current[question_id], value):
            continue
        hot.add_answer(
            session, assessment_id=assessment_id, question_id=question_id, value=value, now=now
        )
        changed = True
    if changed and status == "completed":
        record = hot.assessment_row(session, assessment_id)
        assert record is not None  # locked above
        _snapshot(session=session, state=_state(session, record.found))


def same_answer(stored: Any, value: Any) -> bool:
    """Whether a stored answer equals a parsed one (lists come back from JSON as lists)."""
    as_list = (list, tuple)
    if isinstance(stored, as_list) and isinstance(value, as_list):
        return list(stored) == list(value)
    return type(stored) is type(value) and stored == value


def answer_history(*, session: Session, caller: Caller, assessment_id: str) -> list[StoredAnswer]:
    """Every revision of every answer, oldest first."""
    require_status(session=session, caller=caller, assessment_id=assessment_id)
    rows = session.execute(
        select(Answer.question_id, Answer.value, Answer.created_at)
        .where(Answer.assessment_id == assessment_id)
        .order_by(Answer.id)
    )
    return [StoredAnswer(*row) for row in rows]


def complete_assessment(*, session: Session, caller: Caller, assessment_id: str) -> Recommendation:
    """Mark the assessment completed and store the recommendation as it stands now.

    One already further along (in review, approved, ...) keeps its status.
    """
    state = assessment_state(session=session, caller=caller, assessment_id=assessment_id)
    assessment = session.get(Assessment, assessment_id)
    assert assessment is not None  # just read
    if assessment.status == "in_progress":
        assessment.status = "completed"
    assessment.updated_at = utcnow()
    return _snapshot(session=session, state=state)


def current_recommendation(*, session: Session, state: AssessmentState) -> Recommendation:
    """The stored recommendation of a decided assessment (completed or further), else a fresh
    one."""
    if state.assessment.status != "in_progress":
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


TITLE_MAX = 200


def rename_assessment(
    *, session: Session, caller: Caller, assessment_id: str, title: str | None
) -> None:
    """Give the assessment a new title (None or blank: none). Its key holder, owning user or
    any member of its team may (`require_owner`, role member)."""
    require_owner(session=session, caller=caller, assessment_id=assessment_id, role="member")
    title = (title or "").strip() or None
    if title is not None and len(title) > TITLE_MAX:
        raise ValueError(f"title must be at most {TITLE_MAX} characters")
    assessment = session.get_one(Assessment, assessment_id)
    assessment.title = title
    assessment.updated_at = utcnow()


def delete_assessment(*, session: Session, caller: Caller, assessment_id: str) -> None:
    """Delete the assessment; its answers, snapshots and share links go with it (the foreign
    keys cascade). Its key holder, owning user or a team owner may."""
    require_owner(session=session, caller=caller, assessment_id=assessment_id, role="owner")
    session.execute(delete(Assessment).where(Assessment.id == assessment_id))


def deletable(*, session: Session, caller: Caller, assessment_id: str) -> str | None:
    """The title of an assessment the caller may delete (to ask before doing it)."""
    require_owner(session=session, caller=caller, assessment_id=assessment_id, role="owner")
    return session.get_one(Assessment, assessment_id).title
