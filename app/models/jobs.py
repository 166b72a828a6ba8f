"""Training jobs: one row per job, which is also the local runner's queue (docs/adr/0008)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
RUNNERS = ("local", "ray")


class Job(Base):
    """A recipe handed to a runner: what runs, where, its state, outputs and metrics.

    Every value is set by the code that writes it (no ORM-side defaults): the local worker
    claims and updates rows with plain statements.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status"),
        CheckConstraint(f"runner IN {RUNNERS!r}", name="runner"),
        # The claim's look-up: the oldest queued job of a runner.
        Index("ix_jobs_runner_status_created_at", "runner", "status", "created_at"),
        Index("ix_jobs_created_at", "created_at"),
    )

    # Random, 160 bits (`new_token`): a job's address must not be guessable.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    recipe: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    runner: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    assessment_id: Mapped[str | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), index=True
    )
    # The signed-in user who submitted it; null for the local user of a server without accounts.
    owner_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(2000))
    artifacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The local runner's bookkeeping: who claimed it ("host:pid:nonce"), the trainer's process
    # (its own process group: pid = pgid), the worker's last sign of life, and a cancel request
    # the worker watches for.
    worker: Mapped[str | None] = mapped_column(String(200))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
