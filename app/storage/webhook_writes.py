"""A review event's webhook delivery, queued on either kind of transaction.

Review events are recorded by the audit function, which the answer post calls in the hot
routes' lean transaction when an answer reopens an approved assessment (docs/adr/0001). So the
delivery is queued by `Statement`s that run on both; they run only for review events, never on
the common answer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from app.models import Assessment, TeamWebhook, WebhookDelivery
from app.storage.statement import Db, Statement

TARGET = Statement(
    select(Assessment.team_id, Assessment.title, TeamWebhook.url)
    .join(TeamWebhook, TeamWebhook.team_id == Assessment.team_id)
    .where(Assessment.id == bindparam("b_assessment"))
)
QUEUE = Statement(
    insert(WebhookDelivery).values(
        team_id=bindparam("b_team"),
        event=bindparam("b_event"),
        url=bindparam("b_url"),
        body=bindparam("b_body"),
        state="pending",
        attempts=0,
        next_attempt_at=bindparam("b_now"),
        created_at=bindparam("b_now"),
    )
)


def _db(tx: Session | Db) -> Db:
    """The driver connection of either kind of transaction."""
    return tx if isinstance(tx, Db) else Db.of(tx)


def webhook_target(tx: Session | Db, assessment_id: str) -> tuple[str, str | None, str] | None:
    """The team, title and webhook URL of an assessment whose team has a webhook, else None."""
    row = TARGET.first(_db(tx), b_assessment=assessment_id)
    return None if row is None else (row.team_id, row.title, row.url)


def queue_delivery(
    tx: Session | Db, *, team_id: str, event: str, url: str, body: str, now: datetime
) -> None:
    """A pending delivery of `body` to `url`, due now."""
    QUEUE.rows(_db(tx), b_team=team_id, b_event=event, b_url=url, b_body=body, b_now=now)
