"""The webhook sender: a thread of the app that posts due deliveries after the commit (woken
by it, and polling so that retries survive a restart), each attempt outside any transaction,
retrying failures with exponential backoff until `webhooks.MAX_ATTEMPTS` (docs/adr/0014).

Its timings are read from `app.services.webhooks` when a sender is built, so that a test can
shorten them for its app; connections go through `webhook_targets.client` (docs/adr/0017).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from app.models import utcnow
from app.models.dashboard import TeamWebhook, WebhookAttempt, WebhookDelivery
from app.services import webhook_targets, webhooks
from app.storage import unit_of_work

log = logging.getLogger(__name__)


def backoff_s(attempts: int, first_s: float | None = None) -> float:
    """The wait before the next try after `attempts` failed ones: first_s, 2x, 4x ..."""
    first = webhooks.FIRST_RETRY_S if first_s is None else first_s
    return first * 2 ** (attempts - 1)


@dataclass(frozen=True)
class _Claimed:
    id: int
    url: str
    body: str
    event: str
    attempts: int
    secret: str | None


class WebhookSender:
    """Posts due deliveries from a thread of its own; `run_once` is one pass (tests call it)."""

    def __init__(
        self,
        engine: Engine,
        *,
        first_retry_s: float | None = None,
        max_attempts: int | None = None,
        poll_s: float | None = None,
        client: Callable[[], httpx.Client] | None = None,
        allow_private: bool = False,
    ) -> None:
        self.engine = engine
        # Read when built, not when defined, so that a test can shorten them for its app.
        self.first_retry_s = webhooks.FIRST_RETRY_S if first_retry_s is None else first_retry_s
        self.max_attempts = webhooks.MAX_ATTEMPTS if max_attempts is None else max_attempts
        self.poll_s = webhooks.POLL_S if poll_s is None else poll_s
        self._client = (
            client
            or (
                lambda: webhook_targets.client(
                    allow_private=allow_private, timeout_s=webhooks.SEND_TIMEOUT_S
                )
            )
        )()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread: it sends what is due now, then whenever woken or every poll."""
        self._thread = threading.Thread(target=self._loop, name="webhook-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current attempt (at most the send time-out)."""
        self._stop.set()
        webhooks.senders_woken.set()
        if self._thread is not None:
            self._thread.join(timeout=webhooks.SEND_TIMEOUT_S + 5)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            webhooks.senders_woken.clear()
            try:
                while self.run_once() and not self._stop.is_set():
                    pass
            except OperationalError as exc:  # busy or down: try again at the next poll
                log.warning("webhook sender: %s; trying again in %s s", exc.orig, self.poll_s)
            except Exception:
                log.exception("webhook sender pass failed")
            webhooks.senders_woken.wait(self.poll_s)

    def run_once(self, limit: int = 20) -> int:
        """Claim and send up to `limit` due deliveries; the number sent."""
        claimed = self._claim(limit)
        for delivery in claimed:
            self._send(delivery)
        return len(claimed)

    def _claim(self, limit: int) -> list[_Claimed]:
        """Due deliveries, each leased to this sender by one conditional update."""
        now = utcnow()
        out: list[_Claimed] = []
        # A look without the write lock first: most polls find nothing due, and on SQLite a
        # write transaction every poll would queue behind (or ahead of) every writer.
        with unit_of_work(self.engine, write=False) as session:
            if (
                session.scalar(
                    select(WebhookDelivery.id)
                    .where(
                        WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now
                    )
                    .limit(1)
                )
                is None
            ):
                return out
        with unit_of_work(self.engine, write=True) as session:
            due = session.execute(
                select(
                    WebhookDelivery.id,
                    WebhookDelivery.url,
                    WebhookDelivery.body,
                    WebhookDelivery.event,
                    WebhookDelivery.attempts,
                    WebhookDelivery.next_attempt_at,
                    WebhookDelivery.team_id,
                )
                .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            ).all()
            for row in due:
                leased = session.execute(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id == row.id,
                        WebhookDelivery.state == "pending",
                        WebhookDelivery.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + timedelta(seconds=webhooks.LEASE_S))
                    .execution_options(synchronize_session=False)
                )
                if leased.rowcount == 1:  # type: ignore[attr-defined]
                    hook = session.get(TeamWebhook, row.team_id)
                    secret = hook.secret if hook is not None else None
                    out.append(_Claimed(row.id, row.url, row.body, row.event, row.attempts, secret))
        return out

    def _send(self, delivery: _Claimed) -> None:
        """One attempt, outside any transaction; then its outcome, in a transaction of its own."""
        status: int | None = None
        error: str | None = None
        start = time.perf_counter()
        if delivery.secret is None:
            error = "the webhook was removed"
        else:
            body = delivery.body.encode()
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "AdaptationAdvisor-Webhook/1",
                webhooks.EVENT_HEADER: delivery.event,
                webhooks.DELIVERY_HEADER: str(delivery.id),
                webhooks.SIGNATURE_HEADER: webhooks.sign(delivery.secret, body, int(time.time())),
            }
            try:
                status = self._post(delivery.url, body, headers)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = round((time.perf_counter() - start) * 1000)
        self._record(delivery, status, error, duration_ms)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """Post once and read at most `MAX_RESPONSE_BYTES` of the answer, within twice the
        time-out; its status. Redirects are not followed (a 3xx is a failed attempt)."""
        deadline = time.monotonic() + 2 * webhooks.SEND_TIMEOUT_S
        with self._client.stream("POST", url, content=body, headers=headers) as response:
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read >= webhooks.MAX_RESPONSE_BYTES or time.monotonic() > deadline:
                    break
            return response.status_code

    def _record(
        self, delivery: _Claimed, status: int | None, error: str | None, duration_ms: int
    ) -> None:
        now = utcnow()
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if error is None:
            values.update(state="delivered", delivered_at=now)
        elif attempts >= self.max_attempts or delivery.secret is None:
            values.update(state="failed")
        else:
            wait = backoff_s(attempts, self.first_retry_s)
            values.update(next_attempt_at=now + timedelta(seconds=wait))
        with unit_of_work(self.engine, write=True) as session:
            session.add(
                WebhookAttempt(
                    delivery_id=delivery.id,
                    at=now,
                    status=status,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
