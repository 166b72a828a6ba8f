"""Review pages: an assessment's review (status, reviewers, decision, thread beside the
answers, timeline, milestones, audit), the diff between two points, and what waits for you.

Every form posts, then redirects back to the page it came from (works with JavaScript off);
who may is decided by the services through `app.services.access`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app.services import (
    assessments,
    audit,
    comments,
    notifications,
    review,
    review_state,
    revisions,
)
from app.services.access import Caller, ReviewCaller
from app.web.credentials import caller
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.presenters import review as presenter
from app.web.presenters import urls
from app.web.rendering import renderer

router = APIRouter(include_in_schema=False)
CsrfToken = Annotated[str | None, Form(alias="csrf_token")]
# Where a form returns to: the review page (default) or the result page.
BACK = {"approval": urls.approval, "result": urls.result}


def _render(request: Request, template: str, context: dict[str, Any]) -> Response:
    """A review page, never cached (it names people and carries forms)."""
    context = {"ruleset": assessments.BANK.version, **context}
    response = renderer(request).render(request, template, context)
    response.headers["Cache-Control"] = "no-store"
    if "HX-Push-Url" in response.headers and request.url.query:
        # The diff's address is its query (`?from=R&to=S`): keep it in the pushed URL.
        response.headers["HX-Push-Url"] = f"{request.url.path}?{request.url.query}"
    return response


def _back(assessment_id: str, back: str | None, fragment: str = "") -> RedirectResponse:
    """See-other to the page the form was on."""
    target = BACK.get(back or "approval", urls.approval)(assessment_id)
    return RedirectResponse(target + (f"#{fragment}" if fragment else ""), status_code=303)


def panel_context(
    session: Session,
    credentials: Caller,
    assessment_id: str,
    answers: dict[str, Any],
    viewer: ReviewCaller | None = None,
) -> dict[str, Any]:
    """What the review panel shows (on the review page and the result page); `viewer`, the
    caller's access if already checked."""
    viewer = viewer or review_state.viewer(
        session=session, caller=credentials, assessment_id=assessment_id
    )
    state = review_state.review_state(
        session=session, caller=credentials, assessment_id=assessment_id, viewer=viewer
    )
    thread = comments.comments(
        session=session, caller=credentials, assessment_id=assessment_id, viewer=viewer
    )
    upgrade = revisions.ruleset_upgrade(
        session=session, caller=credentials, assessment_id=assessment_id, viewer=viewer
    )
    return {
        "state": state,
        "status_label": presenter.STATUS_LABELS.get(state.viewer.status, state.viewer.status),
        "answer_rows": presenter.answer_rows(answers, thread, assessment_id),
        "general_comments": [c for c in thread if c.question is None],
        "markdown": presenter.markdown,
        "question_title": presenter.question_title,
        "questions": [(q.id, q.title) for q in assessments.BANK.questions],
        "upgrade": upgrade,
        "upgrade_diff": None if upgrade is None else upgrade.as_diff(answers),
        "urls": {
            "page": urls.approval(assessment_id),
            "request": urls.approval_request(assessment_id),
            "decision": urls.approval_decision(assessment_id),
            "comments": urls.comments(assessment_id),
            "milestones": urls.milestones(assessment_id),
            "redecide": urls.redecide(assessment_id),
            "result": urls.result(assessment_id),
            "diff": urls.diff(assessment_id),
            "edit": lambda c: urls.comment_edit(assessment_id, c),
            "delete": lambda c: urls.comment_delete(assessment_id, c),
            "diff_of": lambda a, b: urls.diff(assessment_id, a, b),
            "settings": None
            if state.viewer.team_id is None
            else urls.review_settings(state.viewer.team_id),
        },
    }


def ruleset_context(
    session: Session,
    credentials: Caller,
    assessment_id: str,
    answers: dict[str, Any],
    viewer: ReviewCaller | None = None,
) -> dict[str, Any]:
    """The ruleset notice alone (the result page of an assessment outside a team)."""
    upgrade = revisions.ruleset_upgrade(
        session=session, caller=credentials, assessment_id=assessment_id, viewer=viewer
    )
    return {
        "upgrade": upgrade,
        "upgrade_diff": None if upgrade is None else upgrade.as_diff(answers),
        "urls": {"redecide": urls.redecide(assessment_id)},
    }


@router.get("/assessments/{assessment_id}/approval", response_class=HTMLResponse)
def approval_page(assessment_id: str, request: Request) -> Response:
    """The review of one assessment."""
    credentials = caller(request)
    with transaction(request) as session:
        state = assessments.assessment_state(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        context = panel_context(session, credentials, assessment_id, state.answers)
        timeline = revisions.revisions(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        marks = revisions.milestones(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        log = audit.events(session=session, caller=credentials, assessment_id=assessment_id)
    context.update(
        assessment=state.assessment,
        title=state.assessment.title or "Untitled assessment",
        timeline=list(reversed(timeline)),
        milestones=marks,
        audit=list(reversed(log)),
        action_labels=presenter.ACTION_LABELS,
        record_url=urls.decision_record_page(assessment_id),
        back="approval",
    )
    return _render(request, "review/approval.html", context)


@router.post("/assessments/{assessment_id}/approval/request")
def request_review(
    assessment_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    reviewers: Annotated[list[str] | None, Form()] = None,
    consulted: Annotated[list[str] | None, Form()] = None,
    informed: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Ask the chosen members to review it."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        review.request_review(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            reviewers=reviewers or [],
            consulted=consulted or [],
            informed=informed or [],
        )
    return _back(assessment_id, "approval", "review-status")


@router.post("/assessments/{assessment_id}/approval/decision")
def decide(
    assessment_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    outcome: Annotated[str, Form()] = "",
    comment: Annotated[str | None, Form()] = None,
) -> Response:
    """Approve, or request changes."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        review.decide(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            outcome=outcome,
            comment=comment,
        )
    return _back(assessment_id, "approval", "review-status")


@router.post("/assessments/{assessment_id}/comments")
def add_comment(
    assessment_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    body: Annotated[str, Form()] = "",
    question: Annotated[str | None, Form()] = None,
    back: Annotated[str | None, Form()] = None,
) -> Response:
    """Add a comment, on the whole assessment or beside one answer."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        made = comments.add_comment(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            body=body,
            question=question or None,
        )
    return _back(assessment_id, back, f"comment-{made.id}")


@router.post("/assessments/{assessment_id}/comments/{comment_id}/edit")
def edit_comment(
    assessment_id: str,
    comment_id: int,
    request: Request,
    csrf_token: CsrfToken = None,
    body: Annotated[str, Form()] = "",
    back: Annotated[str | None, Form()] = None,
) -> Response:
    """Edit your comment."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        comments.edit_comment(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            comment_id=comment_id,
            body=body,
        )
    return _back(assessment_id, back, f"comment-{comment_id}")


@router.post("/assessments/{assessment_id}/comments/{comment_id}/delete")
def delete_comment(
    assessment_id: str,
    comment_id: int,
    request: Request,
    csrf_token: CsrfToken = None,
    back: Annotated[str | None, Form()] = None,
) -> Response:
    """Delete a comment (its history stays)."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        comments.delete_comment(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            comment_id=comment_id,
        )
    return _back(assessment_id, back, f"comment-{comment_id}")


@router.post("/assessments/{assessment_id}/milestones")
def add_milestone(
    assessment_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    name: Annotated[str, Form()] = "",
) -> Response:
    """Freeze the current answers and recommendation under a name."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        revisions.create_milestone(
            session=session, caller=caller(request), assessment_id=assessment_id, name=name
        )
    return _back(assessment_id, "approval", "milestones")


@router.post("/assessments/{assessment_id}/redecide")
def redecide(
    assessment_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    back: Annotated[str | None, Form()] = None,
) -> Response:
    """Decide again under the current ruleset (the old snapshot is kept)."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        revisions.redecide(session=session, caller=caller(request), assessment_id=assessment_id)
    return _back(assessment_id, back)


@router.get("/assessments/{assessment_id}/diff", response_class=HTMLResponse)
def diff_page(
    assessment_id: str, request: Request, before: str = "0", after: str = revisions.CURRENT
) -> Response:
    """Two points of the assessment side by side: `?from=R&to=S`."""
    before = request.query_params.get("from", before)
    after = request.query_params.get("to", after)
    with transaction(request) as session:
        found = revisions.diff(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            before=before,
            after=after,
        )
    context = presenter.diff_context(assessment_id, found)
    return _render(request, "review/diff.html", context)


@router.get("/reviews", response_class=HTMLResponse)
def waiting_page(request: Request) -> Response:
    """The assessments waiting for your review."""
    with transaction(request) as session:
        waiting = notifications.waiting_for_review(session=session, caller=caller(request))
    items = [
        {
            "title": w.title or "Untitled assessment",
            "url": urls.approval(w.assessment_id),
            "updated_at": w.updated_at,
        }
        for w in waiting
    ]
    return _render(request, "review/waiting.html", {"items": items})


@router.get("/reviews/count", response_class=HTMLResponse)
def waiting_count(request: Request) -> Response:
    """The header's count of reviews waiting: a fragment htmx loads after the page."""
    with transaction(request) as session:
        count = notifications.waiting_count(session=session, caller=caller(request))
    html = f'<span class="count" aria-label="{count} waiting">{count}</span>' if count else ""
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@router.post("/teams/{team_id}/review-settings")
def review_settings(
    team_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    allow_self_approval: Annotated[str | None, Form()] = None,
    assessment: Annotated[str | None, Form()] = None,
) -> Response:
    """Turn self-approval on or off (team owners); back to the review it was set from."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        review.set_self_approval(
            session=session,
            caller=caller(request),
            team_id=team_id,
            allowed=allow_self_approval in ("on", "true", "1"),
        )
    target = urls.approval(assessment, "review-settings") if assessment else urls.team(team_id)
    return RedirectResponse(target, status_code=303)
