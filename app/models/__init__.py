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
from app.models.dashboard import (
    DELIVERY_STATES,
    SearchDocument,
    TeamAssessmentCount,
    TeamWebhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.models.jobs import JOB_STATUSES, RUNNERS, Job
from app.models.review import (
    COMMENT_CHANGES,
    DECISION_OUTCOMES,
    PARTICIPANT_KINDS,
    AuditEvent,
    Milestone,
    ReviewComment,
    ReviewCommentChange,
    ReviewDecision,
    ReviewParticipant,
)
from app.models.sharing import ShareLink

__all__ = [
    "ASSESSMENT_STATUSES",
    "COMMENT_CHANGES",
    "DECISION_OUTCOMES",
    "DELIVERY_STATES",
    "JOB_STATUSES",
    "NAMING_CONVENTION",
    "PARTICIPANT_KINDS",
    "ROLES",
    "RUNNERS",
    "Answer",
    "ApiToken",
    "Assessment",
    "AuditEvent",
    "Base",
    "Invite",
    "Job",
    "Membership",
    "Milestone",
    "RecommendationSnapshot",
    "ReviewComment",
    "ReviewCommentChange",
    "ReviewDecision",
    "ReviewParticipant",
    "SearchDocument",
    "ShareLink",
    "SignInFailure",
    "Team",
    "TeamAssessmentCount",
    "TeamWebhook",
    "User",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
    "new_secret",
    "new_token",
    "secret_hash",
    "utcnow",
]
