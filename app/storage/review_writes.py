"""The review's writes that an answer post may need, on either kind of transaction.

An answer to an approved assessment reopens it (a new revision in progress) and records that
in the audit log. The answer post runs in the hot routes' lean transaction (docs/adr/0001),
so these are `Statement`s too; they run only on that rare answer, never on the common one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.models import Assessment, AuditEvent, User
from app.storage.statement import Db, Statement

REOPEN = Statement(
    update(Assessment)
    .where(Assessment.id == bindparam("b_assessment"))
    .values(status="in_progress", updated_at=bindparam("b_now"))
)
TEAM_OF = Statement(select(Assessment.team_id).where(Assessment.id == bindparam("b_assessment")))
EMAIL_OF = Statement(select(User.email).where(User.id == bindparam("b_user")))
AUDIT = Statement(
    insert(AuditEvent).values(
        assessment_id=bindparam("b_assessment"),
        team_id=bindparam("b_team"),
        actor_id=bindparam("b_actor_id"),
        actor=bindparam("b_actor"),
        action=bindparam("b_action"),
        detail=bindparam("b_detail", type_=JSON),
        at=bindparam("b_now"),
    )
)


def _db(tx: Session | Db) -> Db:
    """The driver connection of either kind of transaction."""
    return tx if isinstance(tx, Db) else Db.of(tx)


def reopen(tx: Session | Db, *, assessment_id: str, now: datetime) -> None:
    """Put an approved assessment back in progress: its next revision is being edited."""
    REOPEN.rows(_db(tx), b_assessment=assessment_id, b_now=now)


def actor_label(tx: Session | Db, user_id: str | None) -> str:
    """How the audit log names an actor: their email, or the key holder without an account."""
    if user_id is None:
        return "a holder of the edit key"
    row = EMAIL_OF.first(_db(tx), b_user=user_id)
    return str(row.email) if row is not None else "a deleted account"


def add_audit_event(
    tx: Session | Db,
    *,
    assessment_id: str,
    actor_id: str | None,
    action: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """Append one audit row; the actor's email and the assessment's team are read here."""
    db = _db(tx)
    team = TEAM_OF.first(db, b_assessment=assessment_id)
    AUDIT.rows(
        db,
        b_assessment=assessment_id,
        b_team=None if team is None else team.team_id,
        b_actor_id=actor_id,
        b_actor=actor_label(db, actor_id),
        b_action=action,
        b_detail=detail,
        b_now=now,
    )
