"""Review comments: a thread per assessment, each comment optionally anchored to a question.

Bodies are Markdown source; the web layer renders them safely
(`app.web.presenters.markdown`). An edit or a deletion changes the comment's row and appends
a version to `review_comment_changes`, so the history keeps every text ever shown. Who may
is decided in `app.services.access`; every change is logged through `audit.record_event`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.decision.bank import BANK
from app.models import ReviewComment, ReviewCommentChange, User, utcnow
from app.services import audit
from app.services.access import (
    Caller,
    NotSignedIn,
    ReviewCaller,
    check_comment_change,
    require_review_reader,
)
from app.services.review import ReviewError, revision_of

BODY_MAX = 10_000


class CommentNotFound(LookupError):
    """The assessment has no comment with that id (404)."""

    def __init__(self, comment_id: int) -> None:
        super().__init__(f"this assessment has no comment with id {comment_id}")
        self.comment_id = comment_id


@dataclass(frozen=True)
class Version:
    """One version of a comment: as created, edited, or deleted."""

    change: str
    body: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Comment:
    """A comment as the thread shows it, with its history."""

    id: int
    author: str
    author_id: str | None
    body: str
    question: str | None
    revision: int
    created_at: datetime
    updated_at: datetime
    deleted: bool
    history: list[Version] = field(default_factory=list)

    @property
    def edited(self) -> bool:
        """Whether the text shown is not the first one."""
        return any(v.change == "edited" for v in self.history)


def _body(body: str) -> str:
    """The comment's text, trimmed; `ReviewError` naming `body` when empty or too long."""
    text = (body or "").strip()
    if not text:
        raise ReviewError("body", "write something: the comment is empty")
    if len(text) > BODY_MAX:
        raise ReviewError("body", f"a comment is at most {BODY_MAX:,} characters")
    return text


def _question(question: str | None) -> str | None:
    """The anchoring question id, checked against the bank; None for the whole assessment."""
    if question is None or question == "":
        return None
    if question not in {q.id for q in BANK.questions}:
        raise ReviewError(
            "question", f"there is no question {question!r}", allowed=[q.id for q in BANK.questions]
        )
    return question


def _signed_in(viewer: ReviewCaller) -> str:
    """Comments carry their author: the caller must be signed in."""
    if viewer.user_id is None:
        raise NotSignedIn
    return viewer.user_id


def add_comment(
    *,
    session: Session,
    caller: Caller,
    assessment_id: str,
    body: str,
    question: str | None = None,
) -> Comment:
    """Add a comment to the assessment's thread (anchored to `question`, if given)."""
    viewer = require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    author = _signed_in(viewer)
    text, anchor = _body(body), _question(question)
    now = utcnow()
    row = ReviewComment(
        assessment_id=assessment_id,
        author_id=author,
        question_id=anchor,
        body=text,
        revision=revision_of(session, assessment_id),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    session.add(
        ReviewCommentChange(
            comment_id=row.id, change="created", body=text, changed_by=author, changed_at=now
        )
    )
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=author,
        action="comment_added",
        detail={"comment": row.id, "question": anchor},
    )
    return _one(session, assessment_id, row.id)


def _row(session: Session, assessment_id: str, comment_id: int) -> ReviewComment:
    """The assessment's comment with that id, or `CommentNotFound`."""
    row = session.get(ReviewComment, comment_id)
    if row is None or row.assessment_id != assessment_id:
        raise CommentNotFound(comment_id)
    return row


def edit_comment(
    *, session: Session, caller: Caller, assessment_id: str, comment_id: int, body: str
) -> Comment:
    """Change a comment's text: its author only. The earlier text stays in its history."""
    viewer = require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    author = _signed_in(viewer)
    row = _row(session, assessment_id, comment_id)
    check_comment_change(viewer=viewer, author_id=row.author_id)
    if row.deleted_at is not None:
        raise ReviewError("comment_id", "a deleted comment cannot be edited", status=409)
    text, now = _body(body), utcnow()
    row.body, row.updated_at = text, now
    session.add(
        ReviewCommentChange(
            comment_id=row.id, change="edited", body=text, changed_by=author, changed_at=now
        )
    )
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=author,
        action="comment_edited",
        detail={"comment": row.id},
    )
    return _one(session, assessment_id, row.id)


def delete_comment(
    *, session: Session, caller: Caller, assessment_id: str, comment_id: int
) -> None:
    """Delete a comment: its author or a team owner. The thread keeps a placeholder; its
    history keeps every text it had."""
    viewer = require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    actor = _signed_in(viewer)
    row = _row(session, assessment_id, comment_id)
    check_comment_change(viewer=viewer, author_id=row.author_id, deleting=True)
    if row.deleted_at is not None:
        return
    now = utcnow()
    row.body, row.deleted_at, row.updated_at = "", now, now
    session.add(
        ReviewCommentChange(
            comment_id=row.id, change="deleted", body="", changed_by=actor, changed_at=now
        )
    )
    audit.record_event(
        session,
        assessment_id=assessment_id,
        actor=actor,
        action="comment_deleted",
        detail={"comment": row.id},
    )


def comments(
    *, session: Session, caller: Caller, assessment_id: str, viewer: ReviewCaller | None = None
) -> list[Comment]:
    """The assessment's thread, oldest first, each comment with its history.

    `viewer`: the caller's access, already checked for this assessment (saves the check).
    """
    if viewer is None or viewer.assessment_id != assessment_id:
        require_review_reader(session=session, caller=caller, assessment_id=assessment_id)
    return _thread(session, assessment_id)


def _one(session: Session, assessment_id: str, comment_id: int) -> Comment:
    """One comment of the thread, as shown."""
    return next(c for c in _thread(session, assessment_id, comment_id) if c.id == comment_id)


def _thread(session: Session, assessment_id: str, only: int | None = None) -> list[Comment]:
    """The thread (or one comment of it) with every version, in two queries."""
    query = (
        select(ReviewComment, User.email)
        .outerjoin(User, User.id == ReviewComment.author_id)
        .where(ReviewComment.assessment_id == assessment_id)
        .order_by(ReviewComment.id)
    )
    if only is not None:
        query = query.where(ReviewComment.id == only)
    rows = session.execute(query).all()
    history: dict[int, list[Version]] = {row.id: [] for row, _ in rows}
    if history:
        for change, email in session.execute(
            select(ReviewCommentChange, User.email)
            .outerjoin(User, User.id == ReviewCommentChange.changed_by)
            .where(ReviewCommentChange.comment_id.in_(list(history)))
            .order_by(ReviewCommentChange.id)
        ):
            history[change.comment_id].append(
                Version(
                    change.change,
                    change.body,
                    email or "a deleted account",
                    change.changed_at,
                )
            )
    return [
        Comment(
            id=row.id,
            author=email or "a deleted account",
            author_id=row.author_id,
            body=row.body,
            question=row.question_id,
            revision=row.revision,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deleted=row.deleted_at is not None,
            history=history[row.id],
        )
        for row, email in rows
    ]
