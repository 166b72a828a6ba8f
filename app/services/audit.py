"""The review's audit log: every review action on an assessment, appended by ONE function.

`record_event` is the only writer of `audit_events` (rows are never updated or deleted; an
assessment's deletion takes its log with it). Anything that must follow a review event (the
team's webhook, say) hooks in here, so that no action is missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assessment, AuditEvent, utcnow
from app.services import webhooks
from app.services.access import Caller, require_review_reader
from app.storage import hot, review_writes

# The actions the log knows, as the `action` column spells them.
ACTIONS = (
    "review_requested",
    "approved",
    "changes_requested",
    "approval_superseded",
    "reopened",
    "comment_added",
    "comment_edited",
    "comment_deleted",
    "milestone_created",
    "redecided",
    "webhook_redelivered",
)
# Actions about the webhook itself: logged, not posted to it.
UNPOSTED = frozenset({"webhook_redelivered"})


@dataclass(frozen=True)
class Event:
    """One audit row as the team reads it."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


def record_event(
    session: hot.Transaction,
    *,
    assessment_id: str,
    actor: str | None,
    action: str,
    detail: dict[str, Any],
) -> None:
    """Append one review action: who (`actor`, a user id; None for a key holder without an
    account), what (`action`, one of `ACTIONS`), when (now), and its `detail` (JSON)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; known: {', '.join(ACTIONS)}")
    now = utcnow()
    # The team's webhook, if it has one, gets the event once this transaction commits.
    if action not in UNPOSTED:
        webhooks.enqueue(
            session, assessment_id=assessment_id, event=action, actor=actor, detail=detail, at=now
        )
    if not isinstance(session, Session):  # the answer post's lean transaction
        review_writes.add_audit_event(
            session,
            assessment_id=assessment_id,
            actor_id=actor,
            action=action,
            detail=detail,
            now=now,
        )
        return
    session.add(
        AuditEvent(
            assessment_id=assessment_id,
            team_id=session.scalar(
                select(Assessment.team_id).where(Assessment.id == assessment_id)
            ),
            actor_id=actor,
            actor=review_writes.actor_label(session, actor),
            action=action,
            detail=detail,
            at=now,
        )
    )


def events(*, session: Session, caller: Caller, assessment_id: str) -> list[Event]:
    """The assessment's audit log, oldest first: for anyone who may read the assessment."""
    require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.assessment_id == assessment_id).order_by(AuditEvent.id)
    )
    return [Event(row.at, row.actor, row.action, dict(row.detail)) for row in rows]
