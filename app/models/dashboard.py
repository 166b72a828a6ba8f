"""The team dashboard's search documents, and each team's outgoing webhook with its deliveries.

`search_documents` holds one row per searchable text of an assessment (its title, each live
comment) and the assessment's team. Triggers written by migrations 0006 and 0009 keep it in
step with `assessments.title`, `assessments.team_id` and `review_comments.body`, and keep the
full-text index over it (SQLite FTS5, PostgreSQL GIN over a tsvector) in step with it; no
application code writes it (docs/adr/0013).

A webhook delivery is a row written in the transaction of the review event it reports (an
outbox): a background loop sends it after the commit and retries it with backoff, so a
delivery survives a restart and never holds a request's transaction open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime

DELIVERY_STATES = ("pending", "delivered", "failed")


class SearchDocument(Base):
    """One searchable text of an assessment: its title (`comment_id` null) or one comment."""

    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_comments.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    # The assessment's team, copied by triggers (migration 0009) so that a search reads only
    # the team's documents; no foreign key, as `assessments.primary_approach`: a copy.
    team_id: Mapped[str | None] = mapped_column(String(64), index=True)


class TeamWebhook(Base):
    """A team's one outgoing webhook: where review events are posted, and the signing secret.

    The secret is kept as given: signing needs it (HMAC-SHA256), so a hash would not do.
    """

    __tablename__ = "team_webhooks"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class WebhookDelivery(Base):
    """One event to post to a team's webhook: its body, state, attempts and the last outcome.

    `next_attempt_at` is when the sender may try next (also its lease while one attempt runs).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(f"state IN {DELIVERY_STATES!r}", name="state"),
        # The sender's look-up: pending deliveries that are due.
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
        # The owners' log: a team's newest deliveries first.
        Index("ix_webhook_deliveries_team_id_id", "team_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A redelivery (an owner's "Redeliver" in the log) names the delivery it repeats.
    redelivery_of: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL")
    )


class WebhookAttempt(Base):
    """One try at posting a delivery: when, the HTTP status (or the error), how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery_id_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


class TeamAssessmentCount(Base):
    """How many of a team's assessments have each author ('' for none), month of `updated_at`
    (UTC, 'YYYY-MM'), status and primary approach ('' for none yet): the dashboard's counts
    without counting rows. Triggers on `assessments` keep it in step (migrations 0006, 0008);
    no application code writes it."""

    __tablename__ = "team_assessment_counts"

    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    status: Mapped[str] = mapped_column(String(24), primary_key=True)
    primary_approach: Mapped[str] = mapped_column(String(32), primary_key=True)
    assessments: Mapped[int] = mapped_column(Integer)
