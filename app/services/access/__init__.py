"""Who may reach what: the one place that decides (docs/adr/0003, 0006, 0013).

Every route's check goes through this package, imported as `app.services.access`:

- `core`: the `Caller` (built by the web layer in one function,
  `app.web.credentials.caller`), the errors, and the checks for assessments, teams, share
  links and accounts. Every service function that loads an assessment takes the caller and
  goes through `require_assessment` or `require_status`, which answer `AssessmentNotFound` to
  a caller without access: the same answer as for an id that does not exist. The checks read
  the key hash with the statement that reads the row (`app.storage.hot`), so on the hot step
  routes access costs one SHA-256 and no query.
- `review`: reading a review, deciding it, changing a comment, the self-approval rule.
- `jobs`: submitting, seeing and cancelling jobs.
"""

from app.services.access.core import (
    ANONYMOUS,
    API_TOKEN_PREFIX,
    AssessmentNotFound,
    Caller,
    Forbidden,
    NotSignedIn,
    Opened,
    ShareNotFound,
    TeamNotFound,
    has_accounts,
    is_live,
    matching_key,
    require_assessment,
    require_owner,
    require_share,
    require_status,
    require_status_and_author,
    require_team,
    require_user,
    role_allows,
    signed_in,
)
from app.services.access.jobs import JobNotFound, job_owner, may_reach_job, require_job
from app.services.access.review import (
    NotCommentAuthor,
    ReviewCaller,
    SelfApproval,
    check_comment_change,
    check_self_approval,
    require_decider,
    require_review_reader,
)

__all__ = [
    "ANONYMOUS",
    "API_TOKEN_PREFIX",
    "AssessmentNotFound",
    "Caller",
    "Forbidden",
    "JobNotFound",
    "NotCommentAuthor",
    "NotSignedIn",
    "Opened",
    "ReviewCaller",
    "SelfApproval",
    "ShareNotFound",
    "TeamNotFound",
    "check_comment_change",
    "check_self_approval",
    "has_accounts",
    "is_live",
    "job_owner",
    "matching_key",
    "may_reach_job",
    "require_assessment",
    "require_decider",
    "require_job",
    "require_owner",
    "require_review_reader",
    "require_share",
    "require_status",
    "require_status_and_author",
    "require_team",
    "require_user",
    "role_allows",
    "signed_in",
]
