"""The hot statements: what the step page and the answer post run, on the driver connection.

Each is an indexed statement built once (see `app.storage.statement` and docs/adr/0001). Only
what a `make bench` figure depends on belongs here; everything else uses the Session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import JSON, and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import (
    Answer,
    ApiToken,
    Assessment,
    Membership,
    RecommendationSnapshot,
    UserSession,
)
from app.storage.statement import Db, Statement

# A Session, or the hot routes' lean transaction (`app.storage.lean_unit_of_work`).
Transaction = Session | Db


class AssessmentRow(NamedTuple):
    """An assessment row; `updated_at` already counts its newest answer."""

    id: str
    title: str | None
    status: str
    ruleset: str
    created_at: datetime
    updated_at: datetime


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
    .label("answered_at")
)
RECORD = Statement(
    select(
        Assessment.id,
        Assessment.title,
        Assessment.status,
        Assessment.ruleset,
        Assessment.created_at,
        Assessment.updated_at,
        Assessment.edit_key_hash,
        Assessment.owner_user_id,
        Assessment.team_id,
        _NEWEST_ANSWER_AT,
    ).where(Assessment.id == bindparam("b_assessment"))
)
# Each read of an assessment brings its key hash and owners along: the access check of a key
# holder costs no query.
_GUARDS = (Assessment.edit_key_hash, Assessment.owner_user_id, Assessment.team_id)
STATUS = Statement(
    select(Assessment.status, *_GUARDS).where(Assessment.id == bindparam("b_assessment"))
)
# Answers to one assessment are written one transaction at a time: on PostgreSQL two writers
# would otherwise both retire the same current row and both insert a new one (SQLite's
# BEGIN IMMEDIATE already serialises writers; it renders no FOR UPDATE).
STATUS_FOR_UPDATE = Statement(
    select(Assessment.status, *_GUARDS)
    .where(Assessment.id == bindparam("b_assessment"))
    .with_for_update()
)
# A signed-in caller without the key: who they are and their role in the owning team, if any,
# in one indexed query (by the credential's hash, then the membership's primary key).
_IN_TEAM = Membership.team_id == bindparam("b_team")
SESSION_MEMBER = Statement(
    select(UserSession.user_id, UserSession.expires_at, UserSession.revoked_at, Membership.role)
    .outerjoin(Membership, and_(Membership.user_id == UserSession.user_id, _IN_TEAM))
    .where(UserSession.token_hash == bindparam("b_hash"))
)
TOKEN_MEMBER = Statement(
    select(ApiToken.user_id, ApiToken.revoked_at, Membership.role)
    .outerjoin(Membership, and_(Membership.user_id == ApiToken.user_id, _IN_TEAM))
    .where(ApiToken.token_hash == bindparam("b_hash"))
)
CURRENT_ANSWERS = Statement(
    select(Answer.question_id, Answer.value)
    .where(Answer.assessment_id == bindparam("b_assessment"), Answer.is_current)
    .order_by(Answer.id)
)
# Bind names differ from column names: SQLAlchemy reserves those for the SET/VALUES clauses.
RETIRE = Statement(
    update(Answer)
    .where(
        Answer.assessment_id == bindparam("b_assessment"),
        Answer.question_id == bindparam("b_question"),
        Answer.is_current,
    )
    .values(is_current=False)
)
ADD = Statement(
    insert(Answer).values(
        assessment_id=bindparam("b_assessment"),
        question_id=bindparam("b_question"),
        value=bindparam("b_value", type_=JSON),
        is_current=True,
        created_at=bindparam("b_now"),
        author_id=bindparam("b_author"),
    )
)
# An answer to a completed assessment re-decides it on the answer post, in the same transaction.
SNAPSHOT = Statement(
    insert(RecommendationSnapshot).values(
        assessment_id=bindparam("b_assessment"),
        ruleset=bindparam("b_ruleset"),
        profile=bindparam("b_profile", type_=JSON),
        recommendation=bindparam("b_recommendation", type_=JSON),
        created_at=bindparam("b_now"),
    )
)


def _db(tx: Transaction) -> Db:
    """The driver connection of either kind of transaction."""
    return tx if isinstance(tx, Db) else Db.of(tx)


T = TypeVar("T")


class Guarded(NamedTuple, Generic[T]):
    """What was read about an assessment, and what access is checked by: the hash of its edit
    key, and the user or team owning it (None: nobody)."""

    found: T
    edit_key_hash: str
    owner_user_id: str | None = None
    team_id: str | None = None


def assessment_row(tx: Transaction, assessment_id: str) -> Guarded[AssessmentRow] | None:
    """The assessment's row with its last change (`found`, an AssessmentRow), or None."""
    row = RECORD.first(_db(tx), b_assessment=assessment_id)
    if row is None:
        return None
    updated_at = row.updated_at
    if row.answered_at is not None and row.answered_at > updated_at:
        updated_at = row.answered_at
    record = AssessmentRow(row.id, row.title, row.status, row.ruleset, row.created_at, updated_at)
    return Guarded(record, str(row.edit_key_hash), row.owner_user_id, row.team_id)


def assessment_status(
    tx: Transaction, assessment_id: str, *, for_update: bool = False
) -> Guarded[str] | None:
    """The assessment's status (`found`, a str), or None when there is no such assessment.

    `for_update` locks the row until the transaction ends, so its answers change one writer at
    a time.
    """
    statement = STATUS_FOR_UPDATE if for_update else STATUS
    row = statement.first(_db(tx), b_assessment=assessment_id)
    if row is None:
        return None
    return Guarded(str(row.status), str(row.edit_key_hash), row.owner_user_id, row.team_id)


class Member(NamedTuple):
    """A live credential's user, and their role in the team asked about (None: not in it)."""

    user_id: str
    role: str | None


def session_member(tx: Transaction, token_hash: str, team_id: str | None) -> Member | None:
    """The user of the session with that hash, if it is live, and their role in the team."""
    row = SESSION_MEMBER.first(_db(tx), b_hash=token_hash, b_team=team_id)
    if row is None or row.revoked_at is not None:
        return None
    expires_at = row.expires_at
    if isinstance(expires_at, str):  # pragma: no cover - drivers return datetimes
        expires_at = datetime.fromisoformat(expires_at)
    if expires_at.tzinfo is None:  # SQLite hands back UTC without its zone
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        return None
    return Member(str(row.user_id), row.role)


def token_member(tx: Transaction, token_hash: str, team_id: str | None) -> Member | None:
    """The user of the API token with that hash, if it is live, and their role in the team."""
    row = TOKEN_MEMBER.first(_db(tx), b_hash=token_hash, b_team=team_id)
    if row is None or row.revoked_at is not None:
        return None
    return Member(str(row.user_id), row.role)


def current_answers(tx: Transaction, assessment_id: str) -> dict[str, Any]:
    """The current answer to each answered question, in the order they were first given."""
    rows = CURRENT_ANSWERS.rows(_db(tx), b_assessment=assessment_id)
    return {row.question_id: row.value for row in rows}


def add_answer(
    tx: Transaction,
    *,
    assessment_id: str,
    question_id: str,
    value: Any,
    now: datetime,
    author_id: str | None = None,
) -> None:
    """Retire the current revision of one answer (if any) and add the new current one, given
    by `author_id` (None: a key holder without an account)."""
    db = _db(tx)
    key = {"b_assessment": assessment_id, "b_question": question_id, "b_now": now}
    RETIRE.rows(db, **key)
    ADD.rows(db, **key, b_value=value, b_author=author_id)


def add_snapshot(
    tx: Transaction,
    *,
    assessment_id: str,
    ruleset: str,
    profile: dict[str, Any],
    recommendation: dict[str, Any],
    now: datetime,
) -> None:
    """Keep one recommendation beside the profile it was decided on."""
    SNAPSHOT.rows(
        _db(tx),
        b_assessment=assessment_id,
        b_ruleset=ruleset,
        b_profile=profile,
        b_recommendation=recommendation,
        b_now=now,
    )
