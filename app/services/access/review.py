"""Who may read a review, decide it, and change a comment; the self-approval rule."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.services.access.core import (
    Caller,
    Forbidden,
    _check_who,
    _member,
    role_allows,
)
from app.storage import hot


class SelfApproval(Forbidden):
    """An author approving their own assessment, in a team that does not allow it (403)."""

    def __init__(self) -> None:
        PermissionError.__init__(
            self,
            "you gave answers to this assessment or asked for its review: another reviewer must"
            " approve it (a team owner may allow self-approval in the team's settings)",
        )
        self.needed = "reviewer"


@dataclass(frozen=True)
class ReviewCaller:
    """Who is looking at an assessment's review: its status and team, and the signed-in user
    with their role in that team (None each when not signed in or not in it)."""

    assessment_id: str
    status: str
    team_id: str | None
    user_id: str | None
    role: str | None

    @property
    def may_decide(self) -> bool:
        """Whether this caller's role lets them approve or request changes."""
        return self.role is not None and role_allows(self.role, "reviewer")


def require_review_reader(
    *, session: Session, caller: Caller, assessment_id: str, for_update: bool = False
) -> ReviewCaller:
    """The review's caller, if they may read the assessment (its key holder, owning user or a
    team member); else `AssessmentNotFound`. Reading the review, commenting and asking for a
    review need no more than that; deciding needs `require_decider`."""
    guarded = hot.assessment_status(session, assessment_id, for_update=for_update)
    status, _, member = _check_who(session, caller, guarded, assessment_id)
    assert guarded is not None  # checked
    if member is None and (caller.api_token or caller.session_token):
        member = _member(session, caller, guarded.team_id)
    return ReviewCaller(
        assessment_id,
        status,
        guarded.team_id,
        None if member is None else member.user_id,
        None if member is None else member.role,
    )


def require_decider(*, session: Session, caller: Caller, assessment_id: str) -> ReviewCaller:
    """The review's caller, if they may approve or request changes: a signed-in member of the
    assessment's team whose role is reviewer or owner. Without read access
    `AssessmentNotFound`; with it but without that role, `Forbidden` (403)."""
    reader = require_review_reader(
        session=session, caller=caller, assessment_id=assessment_id, for_update=True
    )
    if not reader.may_decide:
        raise Forbidden("reviewer or owner")
    return reader


class NotCommentAuthor(Forbidden):
    """Someone changing a comment that is not theirs (403)."""

    def __init__(self) -> None:
        PermissionError.__init__(
            self, "only a comment's author may edit it; its author or a team owner may delete it"
        )
        self.needed = "author"


def check_comment_change(
    *, viewer: ReviewCaller, author_id: str | None, deleting: bool = False
) -> None:
    """`NotCommentAuthor` unless the viewer wrote the comment (or, deleting it, owns the team)."""
    if viewer.user_id is not None and viewer.user_id == author_id:
        return
    if deleting and viewer.role is not None and role_allows(viewer.role, "owner"):
        return
    raise NotCommentAuthor


def check_self_approval(*, decider: str, authors: set[str], allowed: bool) -> None:
    """`SelfApproval` when the decider is among the assessment's authors and the team does
    not allow authors to approve their own work."""
    if decider in authors and not allowed:
        raise SelfApproval
