"""Read-only share links of an assessment: stored by the hash of their token.

The token is never stored. It is derived from the row's random `id` with the server's secret
key (`app.services.sharing`), so the owner's list can show each link again while a copy of
the database alone reveals none (docs/adr/0006).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UtcDateTime


class ShareLink(Base):
    """One read-only link to one assessment, with its expiry, revocation and open count."""

    __tablename__ = "share_links"

    # Random, 160 bits, never shown: the token is derived from it.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(
        ForeignKey("assessments.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    opens: Mapped[int] = mapped_column(Integer)
