"""The ORM models, one module per area; Alembic migrates `Base.metadata`."""

from app.models.accounts import (
    ROLES,
    ApiToken,
    Invite,
    Membership,
    SignInFailure,
    Team,
    User,
    UserSession,
)
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
from app.models.jobs import JOB_STATUSES, RUNNERS, Job
from app.models.sharing import ShareLink

__all__ = [
    "ASSESSMENT_STATUSES",
    "JOB_STATUSES",
    "NAMING_CONVENTION",
    "ROLES",
    "RUNNERS",
    "Answer",
    "ApiToken",
    "Assessment",
    "Base",
    "Invite",
    "Job",
    "Membership",
    "RecommendationSnapshot",
    "ShareLink",
    "SignInFailure",
    "Team",
    "User",
    "UserSession",
    "new_secret",
    "new_token",
    "secret_hash",
    "utcnow",
]
