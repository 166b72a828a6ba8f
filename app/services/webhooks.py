"""Each team's outgoing webhook: review events posted as JSON, signed, retried, logged.

- Owners set it (URL and secret) and read its delivery log: `access.require_team` decides.
- A review event becomes a `webhook_deliveries` row in the event's own transaction
  (`enqueue`, called by the review's audit function): nothing is sent from a request, and a
  rolled-back event sends nothing.
- `webhook_sender.WebhookSender`, a thread of the app, posts due deliveries after the commit
  (woken by it, and polling so that retries survive a restart), each attempt outside any
  transaction, and retries failures with exponential backoff until `MAX_ATTEMPTS`.
- The body is signed like Stripe's and GitHub's: `X-Advisor-Signature: t=<unix time>,v1=<hex
  HMAC-SHA256 of "<t>.<body>" keyed by the secret>`; `verify` is what a receiver runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NewType
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Team, utcnow
from app.models.dashboard import TeamWebhook, WebhookAttempt, WebhookDelivery
from app.services import webhook_targets
from app.services.access import Caller, require_team
from app.services.accounts import AccountError
from app.storage import after_commit, hot, review_writes, webhook_writes

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Advisor-Signature"
EVENT_HEADER = "X-Advisor-Event"
DELIVERY_HEADER = "X-Advisor-Delivery"
MAX_URL = 2000
MIN_SECRET, MAX_SECRET = 16, 200
MAX_ATTEMPTS = 8
FIRST_RETRY_S = 10.0  # then 20, 40 ... : about 21 minutes from the first try to the last
SEND_TIMEOUT_S = 5.0  # per connect, write and read; the whole attempt stops at twice that
MAX_RESPONSE_BYTES = 64 * 1024  # read of a receiver's answer; the rest is not waited for
LEASE_S = 60.0  # a claimed delivery is not claimed again this long (the sender died mid-send)
POLL_S = 5.0  # also how late an event queued without a wake-up goes out
LOG_LENGTH = 50  # deliveries the owners' log shows
TOLERANCE_S = 300  # how old a signature `verify` accepts

# A URL `webhook_url` has checked (scheme, length, and its host's addresses).
WebhookUrl = NewType("WebhookUrl", str)

# Every sender of this process waits on it: a commit that enqueued a delivery wakes them.
senders_woken = threading.Event()


class WebhookNotSet(LookupError):
    """The team has no webhook (404)."""

    def __init__(self, team_id: str) -> None:
        super().__init__(f"team {team_id!r} has no webhook")
        self.team_id = team_id


@dataclass(frozen=True)
class Attempt:
    at: datetime
    status: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class Delivery:
    id: int
    event: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    tries: list[Attempt]
    redelivery_of: int | None = None


@dataclass(frozen=True)
class Webhook:
    """A team's webhook as its owners see it; `secret` only right after it was set."""

    team_id: str
    url: str | None
    secret_hint: str | None
    updated_at: datetime | None
    deliveries: list[Delivery]
    secret: str | None = None
    team_name: str = ""


def webhook_url(url: str, *, allow_private: bool = False) -> WebhookUrl:
    """A webhook URL, trimmed; `AccountError` (422, field `url`) unless http(s) with a host
    that is not (and does not resolve to) a private address, unless those are allowed. It may
    wait on DNS: call it outside any transaction."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AccountError("url", "must be an http:// or https:// address with a host")
    if len(url) > MAX_URL:
        raise AccountError("url", f"must be at most {MAX_URL} characters")
    if parts.username or parts.password:
        raise AccountError("url", "must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AccountError("url", "must have a port from 1 to 65535") from exc
    if not allow_private:
        webhook_targets.refuse_private_target(parts.hostname, port)
    return WebhookUrl(url)


def _secret(secret: str | None) -> str:
    """The given secret if long enough, else a new random one."""
    if secret is None or not secret.strip():
        return secrets.token_urlsafe(32)
    secret = secret.strip()
    if not MIN_SECRET <= len(secret) <= MAX_SECRET:
        raise AccountError("secret", f"must be {MIN_SECRET} to {MAX_SECRET} characters")
    return secret


def _hint(secret: str) -> str:
    """Enough of a secret to recognise it: its last four characters."""
    return f"…{secret[-4:]}"


def require_owner(*, session: Session, caller: Caller, team_id: str) -> None:
    """Raise unless the caller may see or change the team's webhook (its owners)."""
    require_team(session=session, caller=caller, team_id=team_id, role="owner")


def set_webhook(
    *, session: Session, caller: Caller, team_id: str, url: WebhookUrl, secret: str | None = None
) -> Webhook:
    """Set the team's webhook (owners) to a URL `webhook_url` has checked; without a secret, a
    new random one is made. The secret comes back this once; an unchanged URL with no secret
    keeps the old one."""
    require_owner(session=session, caller=caller, team_id=team_id)
    now = utcnow()
    hook = session.get(TeamWebhook, team_id)
    if hook is None:
        hook = TeamWebhook(team_id=team_id, url=url, secret=_secret(secret), created_at=now)
        session.add(hook)
    elif secret is not None and secret.strip():
        hook.secret = _secret(secret)
    elif url != hook.url:
        hook.secret = _secret(None)
    hook.url = url
    hook.updated_at = now
    session.flush()
    return Webhook(
        team_id,
        hook.url,
        _hint(hook.secret),
        now,
        [],
        secret=hook.secret,
        team_name=_name(session, team_id),
    )


def remove_webhook(*, session: Session, caller: Caller, team_id: str) -> None:
    """Remove the team's webhook (owners); deliveries not yet sent are dropped as failed."""
    require_owner(session=session, caller=caller, team_id=team_id)
    hook = session.get(TeamWebhook, team_id)
    if hook is None:
        raise WebhookNotSet(team_id)
    session.delete(hook)
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.team_id == team_id, WebhookDelivery.state == "pending")
        .values(state="failed", last_error="the webhook was removed")
    )


def webhook(*, session: Session, caller: Caller, team_id: str) -> Webhook:
    """The team's webhook and its newest deliveries with their attempts (owners)."""
    require_owner(session=session, caller=caller, team_id=team_id)
    hook = session.get(TeamWebhook, team_id)
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.team_id == team_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(LOG_LENGTH)
        )
    )
    tries: dict[int, list[Attempt]] = {row.id: [] for row in rows}
    if rows:
        for attempt in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(tries)))
            .order_by(WebhookAttempt.id)
        ):
            tries[attempt.delivery_id].append(
                Attempt(attempt.at, attempt.status, attempt.error, attempt.duration_ms)
            )
    deliveries = [
        Delivery(
            id=row.id,
            event=row.event,
            state=row.state,
            attempts=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if row.state == "pending" else None,
            delivered_at=row.delivered_at if row.delivered_at else None,
            last_status=row.last_status,
            last_error=row.last_error,
            tries=tries[row.id],
            redelivery_of=row.redelivery_of,
        )
        for row in rows
    ]
    name = _name(session, team_id)
    if hook is None:
        return Webhook(team_id, None, None, None, deliveries, team_name=name)
    return Webhook(
        team_id, hook.url, _hint(hook.secret), hook.updated_at, deliveries, team_name=name
    )


def _name(session: Session, team_id: str) -> str:
    return session.scalar(select(Team.name).where(Team.id == team_id)) or ""


def enqueue(
    session: hot.Transaction,
    *,
    assessment_id: str,
    event: str,
    actor: str | None,
    detail: dict[str, Any],
    at: datetime,
) -> None:
    """Queue a review event for the webhook of the assessment's team, if it has one, in the
    event's own transaction. The review's audit function calls this for every event.

    A Session wakes the senders once it commits; the answer post's lean transaction (an
    answer reopening an approved assessment) leaves its delivery to the senders' next poll.
    """
    target = webhook_writes.webhook_target(session, assessment_id)
    if target is None:
        return
    team_id, title, url = target
    body = json.dumps(
        {
            "event": event,
            "team_id": team_id,
            "assessment": {"id": assessment_id, "title": title},
            "actor_id": actor,
            "actor": review_writes.actor_label(session, actor),
            "detail": detail,
            "at": at.isoformat(),
        },
        ensure_ascii=False,
        default=str,
    )
    webhook_writes.queue_delivery(session, team_id=team_id, event=event, url=url, body=body, now=at)
    if isinstance(session, Session):
        wake_senders(session)


def wake_senders(session: Session) -> None:
    """Wake this process's senders once `session` commits (a delivery was queued)."""
    after_commit(session, senders_woken.set)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> bool:
    """Whether `header` signs `body` with `secret`, made within `tolerance_s` of now."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))
