"""The ORM models, one module per area; Alembic migrates `Base.metadata`."""

from app.models.assessments import (
    ASSESSMENT_STATUSES,
    Answer,
    Assessment,
    RecommendationSnapshot,
    new_secret,
    new_token,
    secret_hash,
    utcnow,
)
from app.models.base import NAMING_CONVENTION, Base
from app.models.sharing import ShareLink

__all__ = [
    "ASSESSMENT_STATUSES",
    "NAMING_CONVENTION",
    "Answer",
    "Assessment",
    "Base",
    "RecommendationSnapshot",
    "ShareLink",
    "new_secret",
    "new_token",
    "secret_hash",
    "utcnow",
]
