"""Assessments, their answer revisions and recommendation snapshots.

Alembic migrates these tables. The hot statements (`app.storage.hot`) read and write them
without the ORM, so every value is set by the code that writes it: no ORM-side defaults.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UtcDateTime

ASSESSMENT_STATUSES = (
    "in_progress",
    "completed",
    "in_review",
    "approved",
    "changes_requested",
    "superseded",
)


def utcnow() -> datetime:
    """Timezone-aware now, so SQLite and PostgreSQL store the same thing."""
    return datetime.now(UTC)


def new_token() -> str:
    """An unguessable id for anything reachable by link: 160 random bits."""
    # An id starting with "-" reads as an option on a command line (`advisor jobs show ID`).
    while (token := secrets.token_urlsafe(20)).startswith("-"):
        pass
    return token


def new_secret() -> str:
    """A credential (an edit key): 256 random bits, url-safe, shown once and stored hashed."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """How a credential is stored: SHA-256, hex. Enough for 256 random bits (no dictionary)."""
    return hashlib.sha256(secret.encode()).hexdigest()


_FILTERS = ("status", "primary_approach", "author_id")
_SORT_KEYS = ("updated_at", "created_at", "title")


class Assessment(Base):
    """One team's questionnaire run, its status and the ruleset it was made with."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint(f"status IN {ASSESSMENT_STATUSES!r}", name="status"),
        # The team dashboard's filters and sorts (migrations 0006 and 0007, docs/adr/0017):
        # each ends the sort with `id`, the ORDER BY's tie-breaker; the sort indexes carry the
        # filters after it, so that any filter walks them index-only to the page's end.
        *(
            Index(
                f"ix_assessments_team_id_{key}_id",
                "team_id",
                key,
                "id",
                *_FILTERS,
                *(other for other in _SORT_KEYS if other != key),
            )
            for key in _SORT_KEYS
        ),
        Index(
            "ix_assessments_team_id_status_updated_at_id", "team_id", "status", "updated_at", "id"
        ),
        Index(
            "ix_assessments_team_id_primary_approach_updated_at_id",
            "team_id",
            "primary_approach",
            "updated_at",
            "id",
        ),
        Index(
            "ix_assessments_team_id_author_id_updated_at_id",
            "team_id",
            "author_id",
            "updated_at",
            "id",
            "primary_approach",
            "status",
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The row's own last change (created, completed); answers carry their own times.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ruleset: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24))
    title: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the edit key (`secret_hash`); the key itself is shown once and never stored.
    edit_key_hash: Mapped[str] = mapped_column(String(64))
    # Who owns it besides the key holders: a user, a team, or (both null) nobody.
    owner_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    # Denormalised for the team dashboard (migration 0006, docs/adr/0013): the newest
    # snapshot's primary approach (written by a trigger on snapshots, never by the app), and
    # who created it (`create_assessment`).
    primary_approach: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    answers: Mapped[list[Answer]] = relationship(
        back_populates="assessment", order_by="Answer.id", passive_deletes=True
    )
    snapshots: Mapped[list[RecommendationSnapshot]] = relationship(
        back_populates="assessment", order_by="RecommendationSnapshot.id", passive_deletes=True
    )


class Answer(Base):
    """One revision of one answer; exactly one revision per question is flagged current."""

    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_assessment_question", "assessment_id", "question_id"),
        # At most one current revision per question, and a cheap lookup of the current set.
        # The predicate is spelled as each dialect renders `Answer.is_current`, so that queries
        # filtering on it can use this partial index however many revisions pile up.
        Index(
            "uq_answers_current",
            "assessment_id",
            "question_id",
            unique=True,
            sqlite_where=text("is_current = 1"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Who gave this revision of the answer: null for a key holder without an account.
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    assessment: Mapped[Assessment] = relationship(back_populates="answers")


class RecommendationSnapshot(Base):
    """The recommendation as the engine gave it, with the profile it decided on."""

    __tablename__ = "recommendation_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    ruleset: Mapped[str] = mapped_column(String(32))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    recommendation: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    assessment: Mapped[Assessment] = relationship(back_populates="snapshots")
