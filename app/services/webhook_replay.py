"""Redelivering a past webhook delivery, as GitHub's "Redeliver": the same event and body,
sent again to the webhook's current URL as a new delivery linked to the one it repeats.

Owners only (`webhooks.require_owner`); the redelivery is audited on the assessment the event
was about (while that assessment exists), and is not itself posted to the webhook.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Assessment, utcnow
from app.models.dashboard import TeamWebhook, WebhookDelivery
from app.services import audit
from app.services.access import Caller, signed_in
from app.services.webhooks import WebhookNotSet, require_owner, wake_senders

MAX_DELIVERY_ID = 2**31 - 1  # the id column's range on PostgreSQL (a larger one is a 422)


class DeliveryNotFound(LookupError):
    """No such delivery in this team's log (404, field `delivery_id`)."""

    def __init__(self, delivery_id: int) -> None:
        super().__init__(f"no delivery {delivery_id} in this team's log")
        self.delivery_id = delivery_id


def redeliver(*, session: Session, caller: Caller, team_id: str, delivery_id: int) -> int:
    """Queue the delivery `delivery_id` of the team again (owners); the new delivery's id.

    `DeliveryNotFound` for a delivery of another team or none; `WebhookNotSet` when the team
    has no webhook any more (there is nowhere to send it).
    """
    require_owner(session=session, caller=caller, team_id=team_id)
    original = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.team_id == team_id
        )
    )
    if original is None:
        raise DeliveryNotFound(delivery_id)
    hook = session.get(TeamWebhook, team_id)
    if hook is None:
        raise WebhookNotSet(team_id)
    now = utcnow()
    again = WebhookDelivery(
        team_id=team_id,
        event=original.event,
        url=hook.url,
        body=original.body,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        redelivery_of=original.id,
    )
    session.add(again)
    session.flush()
    assessment_id = _assessment_of(original.body)
    if assessment_id is not None and session.get(Assessment, assessment_id) is not None:
        audit.record_event(
            session,
            assessment_id=assessment_id,
            actor=signed_in(session=session, caller=caller),
            action="webhook_redelivered",
            detail={"delivery": again.id, "redelivery_of": original.id, "event": original.event},
        )
    wake_senders(session)
    return again.id


def _assessment_of(body: str) -> str | None:
    """The assessment a delivery's body is about, if it names one."""
    try:
        found = json.loads(body).get("assessment", {}).get("id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None
