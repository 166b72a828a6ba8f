"""Pages of issue 13, part B: a team's dashboard, its webhook (owners), and an assessment's
decision record.

Who may see what is decided by the services (through `access`): outsiders 404, members
without the role 403, as on the JSON API.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.services import accounts, dashboard, decision_record, webhook_replay, webhooks
from app.web.credentials import caller
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.errors import PageNotFound
from app.web.presenters import dashboard as presenter
from app.web.presenters import decision_record as record_presenter
from app.web.presenters import urls
from app.web.rendering import renderer
from app.web.webhook_saving import save_webhook

# A delivery's id in a path: a larger number than the column holds is a 422, not a 500.
DeliveryId = Annotated[int, Path(ge=1, le=webhook_replay.MAX_DELIVERY_ID)]

router = APIRouter(include_in_schema=False)
CsrfToken = Annotated[str | None, Form(alias="csrf_token")]


def _date(value: str | None, field: str) -> date | None:
    """A date from a form's date field (empty: none); `DashboardError` naming the field."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise dashboard.DashboardError(field, "must be a date, YYYY-MM-DD") from None


def _number(value: str | None, field: str, default: int) -> int:
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise dashboard.DashboardError(field, "must be a whole number") from None


@router.get("/teams/{team_id}/assessments", response_class=HTMLResponse)
def dashboard_page(
    team_id: str,
    request: Request,
    status: Annotated[str | None, Query()] = None,
    primary: Annotated[str | None, Query()] = None,
    author: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
    sort: Annotated[str | None, Query()] = None,
    page: Annotated[str | None, Query()] = None,
) -> Response:
    """The team's saved assessments with filters, search, sort, pages and counts (members)."""
    error = None
    try:
        query = dashboard.DashboardQuery(
            status=status or None,
            primary=primary or None,
            author=author or None,
            q=q or None,
            since=_date(since, "since"),
            until=_date(until, "until"),
            sort=sort or "-updated",
            page=_number(page, "page", 1),
        )
    except dashboard.DashboardError as exc:
        error = f"{exc.field.replace('_', ' ').capitalize()}: {exc}."
        query = dashboard.DashboardQuery()
    with transaction(request) as session:
        found = dashboard.team_dashboard(
            session=session, caller=caller(request), team_id=team_id, query=query
        )
    context = presenter.dashboard_context(found)
    context["error"] = error
    response = renderer(request).render(
        request, "dashboard/assessments.html", context, status_code=422 if error else 200
    )
    if "HX-Push-Url" in response.headers and error is None:
        # The filters, sort and page are the view: the address bar keeps them (without the
        # empty fields a form sends), so that it reloads and bookmarks as this page.
        response.headers["HX-Push-Url"] = context["view_url"]
    return response


@router.get("/teams/{team_id}/webhook", response_class=HTMLResponse)
def webhook_page(team_id: str, request: Request) -> Response:
    """The team's webhook and its delivery log (owners)."""
    with transaction(request) as session:
        hook = webhooks.webhook(session=session, caller=caller(request), team_id=team_id)
    return renderer(request).render(
        request, "dashboard/webhook.html", presenter.webhook_context(hook)
    )


@router.post("/teams/{team_id}/webhook", response_class=HTMLResponse)
def set_webhook(
    team_id: str,
    request: Request,
    csrf_token: CsrfToken = None,
    url: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
) -> Response:
    """Set the webhook (owners) and show its secret, this once."""
    check_csrf(request, csrf_token)
    try:
        hook = save_webhook(request, team_id=team_id, url=url, secret=secret or None)
    except accounts.AccountError as exc:
        with transaction(request, write=False) as session:
            hook = webhooks.webhook(session=session, caller=caller(request), team_id=team_id)
        context = presenter.webhook_context(
            hook, error=f"{exc.field.capitalize()}: {exc}", url_value=url
        )
        return renderer(request).render(request, "dashboard/webhook.html", context, status_code=422)
    response = renderer(request).render(
        request, "dashboard/webhook.html", presenter.webhook_context(hook)
    )
    response.headers["Cache-Control"] = "no-store"  # the page shows the secret
    return response


@router.post("/teams/{team_id}/webhook/remove")
def remove_webhook(team_id: str, request: Request, csrf_token: CsrfToken = None) -> Response:
    """Remove the webhook (owners) and go back to its page."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request) as session:
            webhooks.remove_webhook(session=session, caller=caller(request), team_id=team_id)
    except webhooks.WebhookNotSet as exc:
        raise PageNotFound("webhook", str(exc)) from exc
    return RedirectResponse(urls.team_webhook(team_id), status_code=303)


@router.post("/teams/{team_id}/webhook/deliveries/{delivery_id}/redeliver")
def redeliver(
    team_id: str, delivery_id: DeliveryId, request: Request, csrf_token: CsrfToken = None
) -> Response:
    """Send a past delivery again (owners) and go back to the log, where it now shows."""
    check_csrf(request, csrf_token)
    try:
        with transaction(request) as session:
            webhook_replay.redeliver(
                session=session, caller=caller(request), team_id=team_id, delivery_id=delivery_id
            )
    except webhook_replay.DeliveryNotFound as exc:
        raise PageNotFound("delivery_id", str(exc)) from exc
    except webhooks.WebhookNotSet as exc:
        raise PageNotFound("webhook", str(exc)) from exc
    return RedirectResponse(urls.team_webhook(team_id), status_code=303)


@router.get("/assessments/{assessment_id}/decision-record", response_class=HTMLResponse)
def decision_record_page(assessment_id: str, request: Request) -> Response:
    """The decision record as a page that prints cleanly, with its downloads."""
    with transaction(request) as session:
        record = decision_record.decision_record(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    context = record_presenter.page_context(record)
    return renderer(request).render(request, "dashboard/decision_record.html", context)
