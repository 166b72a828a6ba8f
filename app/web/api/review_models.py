"""Bodies and answers of the review's JSON API (`app.web.api.review`), and how a comment or
a milestone is shaped for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.services import comments, revisions
from app.web.presenters import review as presenter


class ReviewRequest(BaseModel):
    """Body of `POST /api/assessments/{id}/review`: whom to ask (user ids of the team)."""

    model_config = ConfigDict(extra="forbid")

    reviewers: list[str] = Field(description="Members whose role is reviewer or owner.")
    consulted: list[str] = Field(default_factory=list, description="Members asked for advice.")
    informed: list[str] = Field(default_factory=list, description="Members kept informed.")


class DecisionIn(BaseModel):
    """Body of `POST /api/assessments/{id}/decision`."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["approved", "changes_requested"]
    comment: str | None = Field(default=None, max_length=comments.BODY_MAX)


class StatusOut(BaseModel):
    """The assessment's status after the action."""

    status: str


class CommentIn(BaseModel):
    """Body of `POST /api/assessments/{id}/comments`: Markdown, optionally on one question."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=comments.BODY_MAX)
    question: str | None = Field(default=None, description="The question id it is about.")


class CommentEdit(BaseModel):
    """Body of `PATCH /api/assessments/{id}/comments/{comment_id}`."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(max_length=comments.BODY_MAX)


class VersionOut(BaseModel):
    """One version of a comment."""

    change: str
    body: str
    by: str
    at: datetime


class CommentOut(BaseModel):
    """A comment: Markdown `body`, and `html`, the same rendered and sanitised."""

    id: int
    author: str
    body: str
    html: str
    question: str | None
    revision: int
    created_at: datetime
    updated_at: datetime
    deleted: bool
    edited: bool
    history: list[VersionOut]


class RevisionOut(BaseModel):
    """One revision: the answer change that made it."""

    revision: int
    created_at: datetime
    author: str | None = Field(description="The email of who gave it; null for a key holder.")
    changed: list[str]


class AuditOut(BaseModel):
    """One audit row."""

    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


class MilestoneIn(BaseModel):
    """Body of `POST /api/assessments/{id}/milestones`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=revisions.NAME_MAX)


class MilestoneOut(BaseModel):
    """A milestone; compare it with `/diff?from=m{id}&to=current`."""

    id: int
    key: str
    name: str
    revision: int
    ruleset: str
    primary: str | None
    by: str | None
    created_at: datetime


class SelfApprovalIn(BaseModel):
    """Body of `PUT /api/teams/{id}/review-settings`."""

    model_config = ConfigDict(extra="forbid")

    allow_self_approval: bool


def comment_out(comment: comments.Comment) -> CommentOut:
    return CommentOut(
        id=comment.id,
        author=comment.author,
        body=comment.body,
        html=str(presenter.markdown(comment.body)),
        question=comment.question,
        revision=comment.revision,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        deleted=comment.deleted,
        edited=comment.edited,
        history=[
            VersionOut(change=v.change, body=v.body, by=v.by, at=v.at) for v in comment.history
        ],
    )


def milestone_out(m: revisions.MilestoneInfo) -> MilestoneOut:
    return MilestoneOut(
        id=m.id,
        key=m.key,
        name=m.name,
        revision=m.revision,
        ruleset=m.ruleset,
        primary=m.primary,
        by=m.by,
        created_at=m.created_at,
    )
