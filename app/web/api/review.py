"""JSON API of team review: ask for review, decide, comment, revisions and diff, audit log,
milestones and ruleset upgrades (the contract's section Review; docs/adr/0012)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response, status

from app.services import audit, comments, notifications, review, review_state, revisions
from app.web.api.review_models import (
    AuditOut,
    CommentEdit,
    CommentIn,
    CommentOut,
    DecisionIn,
    MilestoneIn,
    MilestoneOut,
    ReviewRequest,
    RevisionOut,
    SelfApprovalIn,
    StatusOut,
    comment_out,
    milestone_out,
)
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import documented
from app.web.presenters import review as presenter

router = APIRouter(
    prefix="/api",
    tags=["review"],
    responses=documented(422, "Bad input: each problem names its field and the allowed values."),
)
NOT_FOUND = documented(404, "No assessment with that id, or not yours to see.")
DECIDERS_ONLY = {
    **NOT_FOUND,
    **documented(403, "Not a reviewer or owner of its team, or approving your own work."),
    **documented(409, "Its status does not allow this now."),
}
ASKING = {**NOT_FOUND, **documented(401, "Sign in first."), **documented(409, "Not now.")}


@router.post("/assessments/{assessment_id}/review", response_model=StatusOut, responses=ASKING)
def post_review(assessment_id: str, body: ReviewRequest, request: Request) -> StatusOut:
    """Ask members of the assessment's team to review it (completing it on the way)."""
    with transaction(request) as session:
        new_status = review.request_review(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            reviewers=body.reviewers,
            consulted=body.consulted,
            informed=body.informed,
        )
    return StatusOut(status=new_status)


@router.get("/assessments/{assessment_id}/review", responses=NOT_FOUND)
def get_review(assessment_id: str, request: Request) -> dict[str, Any]:
    """The review: status, revision, reviewers, consulted, informed and every decision."""
    with transaction(request) as session:
        state = review_state.review_state(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return presenter.review_json(state)


@router.post(
    "/assessments/{assessment_id}/decision", response_model=StatusOut, responses=DECIDERS_ONLY
)
def post_decision(assessment_id: str, body: DecisionIn, request: Request) -> StatusOut:
    """Approve the current revision, or request changes: a team reviewer or owner."""
    with transaction(request) as session:
        new_status = review.decide(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            outcome=body.outcome,
            comment=body.comment,
        )
    return StatusOut(status=new_status)


@router.get(
    "/assessments/{assessment_id}/comments", response_model=list[CommentOut], responses=NOT_FOUND
)
def get_comments(assessment_id: str, request: Request) -> list[CommentOut]:
    """The assessment's thread, oldest first, each comment with its history."""
    with transaction(request) as session:
        thread = comments.comments(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return [comment_out(c) for c in thread]


@router.post(
    "/assessments/{assessment_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    responses=ASKING,
)
def post_comment(assessment_id: str, body: CommentIn, request: Request) -> CommentOut:
    """Comment on the assessment, or on one of its questions (`question`). Signed in."""
    with transaction(request) as session:
        made = comments.add_comment(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            body=body.body,
            question=body.question,
        )
    return comment_out(made)


@router.patch(
    "/assessments/{assessment_id}/comments/{comment_id}",
    response_model=CommentOut,
    responses={**ASKING, **documented(403, "Not your comment.")},
)
def patch_comment(
    assessment_id: str, comment_id: int, body: CommentEdit, request: Request
) -> CommentOut:
    """Edit your comment; the earlier text stays in its history."""
    with transaction(request) as session:
        edited = comments.edit_comment(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            comment_id=comment_id,
            body=body.body,
        )
    return comment_out(edited)


@router.delete(
    "/assessments/{assessment_id}/comments/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**ASKING, **documented(403, "Not your comment, and not a team owner.")},
)
def delete_comment(assessment_id: str, comment_id: int, request: Request) -> Response:
    """Delete a comment (its author, or a team owner); its history is kept."""
    with transaction(request) as session:
        comments.delete_comment(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            comment_id=comment_id,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/assessments/{assessment_id}/revisions",
    response_model=list[RevisionOut],
    responses=NOT_FOUND,
)
def get_revisions(assessment_id: str, request: Request) -> list[RevisionOut]:
    """The timeline: one revision per answer change, oldest first."""
    with transaction(request) as session:
        timeline = revisions.revisions(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return [
        RevisionOut(
            revision=r.revision, created_at=r.created_at, author=r.author, changed=r.changed
        )
        for r in timeline
    ]


@router.get("/assessments/{assessment_id}/diff", responses=NOT_FOUND)
def get_diff(
    assessment_id: str,
    request: Request,
    before: str = Query(
        default="0", alias="from", description="A revision number, `current`, or `m<id>`."
    ),
    after: str = Query(default=revisions.CURRENT, alias="to"),
) -> dict[str, Any]:
    """The answers that differ between two points, side by side, and both recommendations."""
    with transaction(request) as session:
        found = revisions.diff(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            before=before,
            after=after,
        )
    return found.as_json()


@router.get(
    "/assessments/{assessment_id}/audit", response_model=list[AuditOut], responses=NOT_FOUND
)
def get_audit(assessment_id: str, request: Request) -> list[AuditOut]:
    """The assessment's audit log of review actions, oldest first."""
    with transaction(request) as session:
        log = audit.events(session=session, caller=caller(request), assessment_id=assessment_id)
    return [AuditOut(at=e.at, actor=e.actor, action=e.action, detail=e.detail) for e in log]


@router.get(
    "/assessments/{assessment_id}/milestones",
    response_model=list[MilestoneOut],
    responses=NOT_FOUND,
)
def get_milestones(assessment_id: str, request: Request) -> list[MilestoneOut]:
    """The assessment's milestones, oldest first."""
    with transaction(request) as session:
        found = revisions.milestones(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return [milestone_out(m) for m in found]


@router.post(
    "/assessments/{assessment_id}/milestones",
    status_code=status.HTTP_201_CREATED,
    response_model=MilestoneOut,
    responses={**NOT_FOUND, **documented(409, "That name is taken.")},
)
def post_milestone(assessment_id: str, body: MilestoneIn, request: Request) -> MilestoneOut:
    """Freeze the current answers and recommendation under a name."""
    with transaction(request) as session:
        made = revisions.create_milestone(
            session=session, caller=caller(request), assessment_id=assessment_id, name=body.name
        )
    return milestone_out(made)


@router.get("/assessments/{assessment_id}/ruleset", responses=NOT_FOUND)
def get_ruleset(assessment_id: str, request: Request) -> dict[str, Any]:
    """Whether the stored recommendation was decided under an older ruleset, and what the
    current one would recommend (`upgrade`: null when it is current)."""
    with transaction(request) as session:
        upgrade = revisions.ruleset_upgrade(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return presenter.upgrade_json(upgrade)


@router.post("/assessments/{assessment_id}/redecide", responses=NOT_FOUND)
def post_redecide(assessment_id: str, request: Request) -> dict[str, Any]:
    """Decide again under the current ruleset; the old snapshot is kept beside the new."""
    with transaction(request) as session:
        upgrade = revisions.redecide(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return presenter.upgrade_json(upgrade)


@router.get("/reviews/waiting", responses=documented(401, "Sign in first."))
def get_waiting(request: Request) -> list[dict[str, Any]]:
    """The assessments waiting for your review, newest change first."""
    with transaction(request) as session:
        waiting = notifications.waiting_for_review(session=session, caller=caller(request))
    return [
        {"id": w.assessment_id, "title": w.title, "team": w.team_id, "updated_at": w.updated_at}
        for w in waiting
    ]


@router.put(
    "/teams/{team_id}/review-settings",
    response_model=SelfApprovalIn,
    responses={
        **documented(404, "No team of yours."),
        **documented(403, "Only its owners change this."),
    },
)
def put_review_settings(team_id: str, body: SelfApprovalIn, request: Request) -> SelfApprovalIn:
    """Whether authors may approve their own assessments in this team (off by default)."""
    with transaction(request) as session:
        review.set_self_approval(
            session=session,
            caller=caller(request),
            team_id=team_id,
            allowed=body.allow_self_approval,
        )
    return body
