"""Team review of an assessment: reviewers, decisions, comments, milestones and the audit log.

A *revision* of an assessment is the count of answer rows it has (every answer change is a
row, `Answer`): revision R is the answers as they stood after the R-th change. Decisions,
comments and milestones remember the revision they were made at, so an approval stays on the
revision it approved when the answers change again (docs/adr/0012).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime

# MADR's names for who takes part in a decision: a reviewer decides (a "decider").
PARTICIPANT_KINDS = ("reviewer", "consulted", "informed")
DECISION_OUTCOMES = ("approved", "changes_requested")
COMMENT_CHANGES = ("created", "edited", "deleted")


class ReviewParticipant(Base):
    """Someone the author asked to review an assessment, or to be consulted or informed."""

    __tablename__ = "review_participants"
    __table_args__ = (CheckConstraint(f"kind IN {PARTICIPANT_KINDS!r}", name="kind"),)

    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    assigned_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReviewDecision(Base):
    """A reviewer's approval or request for changes, attached to the revision it judged.

    A newer approval of the same assessment marks the older one superseded (`superseded_at`,
    `superseded_by`); the rows themselves are never deleted.
    """

    __tablename__ = "review_decisions"
    __table_args__ = (
        CheckConstraint(f"outcome IN {DECISION_OUTCOMES!r}", name="outcome"),
        Index("ix_review_decisions_assessment_id_id", "assessment_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(24))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment: Mapped[str | None] = mapped_column(Text)
    # The recommendation decided on (the newest snapshot at the time), and the ruleset it came from.
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation_snapshots.id", ondelete="SET NULL")
    )
    ruleset: Mapped[str] = mapped_column(String(32))
    # For the MADR record: {"deciders": [email], "consulted": [email], "informed": [email]},
    # as they stood when the decision was taken (accounts may be renamed or deleted later).
    participants: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    superseded_by: Mapped[int | None] = mapped_column(
        ForeignKey("review_decisions.id", ondelete="SET NULL")
    )


class ReviewComment(Base):
    """One comment in an assessment's thread, optionally anchored to one question.

    `body` is the current Markdown source (empty once deleted); every version is kept in
    `review_comment_changes`.
    """

    __tablename__ = "review_comments"
    __table_args__ = (Index("ix_review_comments_assessment_id_id", "assessment_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    question_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReviewCommentChange(Base):
    """One version of a comment: as created, as edited, or its deletion (append-only)."""

    __tablename__ = "review_comment_changes"
    __table_args__ = (CheckConstraint(f"change IN {COMMENT_CHANGES!r}", name="change"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("review_comments.id", ondelete="CASCADE"), index=True
    )
    change: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Milestone(Base):
    """A named, frozen copy of an assessment's answers and recommendation at one revision."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("assessment_id", "name", name="uq_milestones_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    revision: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    ruleset: Mapped[str] = mapped_column(String(32))
    recommendation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEvent(Base):
    """One review action on an assessment: who, what, when, and its details. Append-only.

    `actor` keeps the actor's email as it was (the account may go); `actor_id` links to the
    account while it exists. `team_id` lets a team read its log even for assessments it left.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_assessment_id_id", "assessment_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
