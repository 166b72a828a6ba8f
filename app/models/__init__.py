"""The ORM models, one module per area; Alembic migrates `Base.metadata`."""

from app.models.assessments import (
    ASSESSMENT_STATUSES,
    Answer,
    Assessment,
    RecommendationSnapshot,
    new_token,
    utcnow,
)
from app.models.base import NAMING_CONVENTION, Base

__all__ = [
    "ASSESSMENT_STATUSES",
    "NAMING_CONVENTION",
    "Answer",
    "Assessment",
    "Base",
    "RecommendationSnapshot",
    "new_token",
    "utcnow",
]
