"""The result pages: the plan with its reasons, and the assessment's JSON and Markdown downloads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.services import accounts, assessments, jobs, ownership, review_state, sharing
from app.web.credentials import caller
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.errors import FieldRefused, PageNotFound
from app.web.html import review as review_pages
from app.web.presenters import jobs as job_presenter
from app.web.presenters import result_costs, results, urls
from app.web.presenters import sharing as share_presenter
from app.web.rendering import is_htmx, renderer

router = APIRouter(include_in_schema=False)


@router.get("/assessments/{assessment_id}/result", response_class=HTMLResponse)
def result(assessment_id: str, request: Request) -> Response:
    """The plan, why, what to do first, and what would change it."""
    credentials, base_url = caller(request), str(request.base_url)
    with transaction(request) as session:
        state = assessments.assessment_state(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        recommendation = assessments.current_recommendation(session=session, state=state)
        links = sharing.shares_if_managed(
            session=session,
            caller=credentials,
            assessment_id=assessment_id,
            secret_key=request.app.state.settings.secret_key,
        )
        choices = ownership.claim_choices(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        assessment_jobs = jobs.list_jobs(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        # Only a team's assessment is reviewed; any other shows at most the ruleset notice.
        viewer = review_state.viewer(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        in_team = viewer.team_id is not None
        panel = review_pages.panel_context if in_team else review_pages.ruleset_context
        review_panel = panel(session, credentials, assessment_id, state.answers, viewer)
    context = results.result_context(state, recommendation, base_url=base_url)
    context["costs"] = result_costs.cost_context(
        state.profile, recommendation, request.query_params
    )
    if in_team:
        context["review_panel"] = review_panel
    elif review_panel["upgrade"] is not None:  # decided under an older ruleset
        context["ruleset_notice"] = review_panel
    context["assessment_jobs"] = [job_presenter.job_row(job) for job in assessment_jobs]
    context["share"] = share_presenter.manage_context(assessment_id, links, base_url)
    context["claim"] = results.claim_context(assessment_id, choices, has_key=bool(state.edit_key))
    context["manage"] = results.manage_context(assessment_id, state.assessment.title)
    response = renderer(request).render(request, "results/result.html", context)
    response.headers["Cache-Control"] = "no-store"  # the page carries the private link
    if is_htmx(request) and request.url.query:
        # The cost form's volume and prices are in the query: that address is the one to keep.
        response.headers["HX-Push-Url"] = f"{urls.result(assessment_id)}?{request.url.query}"
    return response


@router.get("/assessments/{assessment_id}/export.{kind}")
def export(assessment_id: str, kind: str, request: Request) -> Response:
    """The assessment as a JSON or Markdown download."""
    if kind not in results.EXPORTS:
        known = ", ".join(results.EXPORTS)
        raise PageNotFound("kind", f"there is no {kind!r} export; there are: {known}")
    write, media_type = results.EXPORTS[kind]
    with transaction(request) as session:
        state = assessments.assessment_state(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
        recommendation = assessments.current_recommendation(session=session, state=state)
    filename = f"assessment-{assessment_id[:8]}.{kind}"
    return Response(
        write(state, recommendation),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/assessments/{assessment_id}/claim")
def claim(
    assessment_id: str,
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    team: Annotated[str | None, Form()] = None,
) -> Response:
    """Move the assessment this browser holds the key for into the user's account or a team."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        ownership.claim(
            session=session,
            caller=caller(request),
            assessment_id=assessment_id,
            team_id=team or None,
        )
    return RedirectResponse(urls.claim_section(assessment_id), status_code=303)


@router.post("/assessments/{assessment_id}/rename")
def rename(
    assessment_id: str,
    request: Request,
    csrf_token: Annotated[str | None, Form()] = None,
    title: Annotated[str | None, Form()] = None,
) -> Response:
    """Rename the assessment from the result page's form, then show the page again."""
    check_csrf(request, csrf_token)
    if title is not None and len(title.strip()) > assessments.TITLE_MAX:
        # Named as the field (an HTTPException named only "path").
        message = f"at most {assessments.TITLE_MAX} characters"
        raise FieldRefused("title", message, kind="string_too_long")
    with transaction(request) as session:
        assessments.rename_assessment(
            session=session, caller=caller(request), assessment_id=assessment_id, title=title
        )
    return RedirectResponse(urls.result(assessment_id), status_code=303)


@router.get("/assessments/{assessment_id}/delete", response_class=HTMLResponse)
def confirm_delete(assessment_id: str, request: Request) -> Response:
    """Ask before deleting: the form that does it, with CSRF."""
    with transaction(request) as session:
        title = assessments.deletable(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    context = results.delete_context(assessment_id, title)
    response = renderer(request).render(request, "results/delete.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/assessments/{assessment_id}/delete")
def delete(
    assessment_id: str, request: Request, csrf_token: Annotated[str | None, Form()] = None
) -> Response:
    """Delete the assessment, then go home (or to My assessments, signed in)."""
    check_csrf(request, csrf_token)
    credentials = caller(request)
    with transaction(request) as session:
        assessments.delete_assessment(
            session=session, caller=credentials, assessment_id=assessment_id
        )
        account = accounts.current(session=session, caller=credentials)
    target = urls.my_assessments() if account is not None else urls.home()
    return RedirectResponse(target, status_code=303)
