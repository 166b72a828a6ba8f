"""JSON API of the team dashboard, the decision-record exports and the team webhook."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from app.services import dashboard, decision_record, webhook_replay, webhooks
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import PageNotFound, documented, error_body
from app.web.presenters import decision_record as record_presenter
from app.web.webhook_saving import save_webhook

# A delivery's id in a path: a larger number than the column holds is a 422, not a 500.
DeliveryId = Annotated[int, Path(ge=1, le=webhook_replay.MAX_DELIVERY_ID)]

router = APIRouter(
    prefix="/api",
    tags=["dashboard"],
    responses=documented(422, "Bad input: each problem names its field and the allowed values."),
)
TEAM_NOT_FOUND = documented(404, "No team with that id, or you are not in it.")
OWNERS_ONLY = documented(403, "Only the team's owners manage its webhook.")
ASSESSMENT_NOT_FOUND = documented(404, "No assessment with that id, or not yours to read.")


class DashboardItemOut(BaseModel):
    """One saved assessment of the team."""

    id: str
    title: str | None
    status: str
    primary: str | None = Field(description="The newest recommendation's first approach.")
    author_id: str | None
    author: str | None = Field(description="The author's email.")
    ruleset: str
    created_at: datetime
    updated_at: datetime


class DashboardOut(BaseModel):
    """One page of the team's assessments, how many match, and the counts by primary."""

    items: list[DashboardItemOut]
    total: int
    total_capped: bool = Field(
        default=False,
        description="A search matched more than the 1,000 newest documents it reads: `total`"
        " and the counts are those of the assessments they belong to, a lower bound.",
    )
    counts_by_primary: dict[str, int] = Field(
        description="Matching assessments by primary approach, every filter applied but"
        " `primary` (assessments not decided yet are not counted)."
    )
    page: int
    per_page: int
    pages: int


@router.get("/teams/{team_id}/assessments", response_model=DashboardOut, responses=TEAM_NOT_FOUND)
def get_team_assessments(
    team_id: str,
    request: Request,
    status_: str | None = Query(default=None, alias="status", description="A status."),
    primary: str | None = Query(default=None, description="A primary approach."),
    author: str | None = Query(default=None, description="An author's user id."),
    q: str | None = Query(default=None, max_length=200, description="Words in titles/comments."),
    since: date | None = Query(default=None, description="Changed on or after (YYYY-MM-DD)."),
    until: date | None = Query(default=None, description="Changed on or before (YYYY-MM-DD)."),
    sort: str = Query(default="-updated", description=f"One of {', '.join(dashboard.SORTS)}."),
    page: int = 1,
    per_page: int = dashboard.PER_PAGE,
) -> DashboardOut | JSONResponse:
    """The team's saved assessments: filtered, searched, sorted, a page at a time (members)."""
    try:
        query = dashboard.DashboardQuery(
            status=status_ or None,
            primary=primary or None,
            author=author or None,
            q=q,
            since=since,
            until=until,
            sort=sort,
            page=page,
            per_page=per_page,
        )
    except dashboard.DashboardError as exc:
        return JSONResponse(error_body(exc.field, str(exc), kind="value_error"), 422)
    with transaction(request) as session:
        found = dashboard.team_assessments(
            session=session, caller=caller(request), team_id=team_id, query=query
        )
    return DashboardOut(
        items=[DashboardItemOut(**vars(item)) for item in found.items],
        total=found.total,
        total_capped=found.total_capped,
        counts_by_primary=found.counts_by_primary,
        page=query.page,
        per_page=query.per_page,
        pages=found.pages,
    )


@router.get(
    "/assessments/{assessment_id}/export.md",
    response_class=Response,
    responses={
        **ASSESSMENT_NOT_FOUND,
        200: {"content": {"text/markdown": {}}, "description": "A MADR decision record."},
    },
)
def get_decision_record_md(
    assessment_id: str,
    request: Request,
    style: Literal["madr"] = Query(default="madr", description="The record's template."),
) -> Response:
    """The assessment as a MADR decision record, to commit under `docs/decisions/`."""
    with transaction(request) as session:
        record = decision_record.decision_record(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return _download(record_presenter.madr(record), "text/markdown; charset=utf-8", record, "md")


@router.get(
    "/assessments/{assessment_id}/export.json",
    response_class=Response,
    responses={**ASSESSMENT_NOT_FOUND, 200: {"content": {"application/json": {}}}},
)
def get_decision_record_json(assessment_id: str, request: Request) -> Response:
    """The decision record as JSON: the same content as the MADR file, as data."""
    with transaction(request) as session:
        record = decision_record.decision_record(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return _download(record_presenter.record_json(record), "application/json", record, "json")


def _download(
    text: str, media_type: str, record: decision_record.DecisionRecord, kind: str
) -> Response:
    name = record_presenter.filename(record, kind)
    return Response(
        text,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class WebhookIn(BaseModel):
    """Body of `PUT /api/teams/{id}/webhook`."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=webhooks.MAX_URL, description="An http:// or https:// address.")
    secret: str | None = Field(
        default=None,
        max_length=webhooks.MAX_SECRET,
        description="The signing secret (16+ characters); omitted: a new random one.",
    )


class AttemptOut(BaseModel):
    at: datetime
    status: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: int
    event: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    tries: list[AttemptOut]
    redelivery_of: int | None = Field(
        default=None, description="The delivery this one repeats, when an owner redelivered it."
    )


class WebhookOut(BaseModel):
    """The team's webhook; `secret` is shown only in the answer that set it."""

    url: str | None
    secret_hint: str | None
    secret: str | None = None
    updated_at: datetime | None
    deliveries: list[DeliveryOut] = Field(description="The newest deliveries, newest first.")


def _webhook_out(hook: webhooks.Webhook) -> WebhookOut:
    return WebhookOut(
        url=hook.url,
        secret_hint=hook.secret_hint,
        secret=hook.secret,
        updated_at=hook.updated_at,
        deliveries=[
            DeliveryOut(
                **{k: v for k, v in vars(d).items() if k != "tries"},
                tries=[AttemptOut(**vars(t)) for t in d.tries],
            )
            for d in hook.deliveries
        ],
    )


@router.get(
    "/teams/{team_id}/webhook",
    response_model=WebhookOut,
    responses={**TEAM_NOT_FOUND, **OWNERS_ONLY},
)
def get_webhook(team_id: str, request: Request) -> WebhookOut:
    """The team's webhook and its delivery log (owners)."""
    with transaction(request) as session:
        hook = webhooks.webhook(session=session, caller=caller(request), team_id=team_id)
    return _webhook_out(hook)


@router.put(
    "/teams/{team_id}/webhook",
    response_model=WebhookOut,
    responses={**TEAM_NOT_FOUND, **OWNERS_ONLY},
)
def put_webhook(team_id: str, body: WebhookIn, request: Request) -> WebhookOut:
    """Set the team's webhook (owners); the secret comes back in this answer only."""
    hook = save_webhook(request, team_id=team_id, url=body.url, secret=body.secret)
    return _webhook_out(hook)


@router.delete(
    "/teams/{team_id}/webhook",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**TEAM_NOT_FOUND, **OWNERS_ONLY},
)
def delete_webhook(team_id: str, request: Request) -> Response:
    """Remove the team's webhook (owners); deliveries not yet sent are dropped."""
    try:
        with transaction(request) as session:
            webhooks.remove_webhook(session=session, caller=caller(request), team_id=team_id)
    except webhooks.WebhookNotSet as exc:
        raise PageNotFound("webhook", str(exc)) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class RedeliveryOut(BaseModel):
    """A redelivery, queued: its own id and the delivery it repeats."""

    id: int
    redelivery_of: int


@router.post(
    "/teams/{team_id}/webhook/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_201_CREATED,
    response_model=RedeliveryOut,
    responses={**TEAM_NOT_FOUND, **OWNERS_ONLY},
)
def post_redelivery(team_id: str, delivery_id: DeliveryId, request: Request) -> RedeliveryOut:
    """Send a past delivery again, as a new delivery linked to it (owners); audited."""
    try:
        with transaction(request) as session:
            new_id = webhook_replay.redeliver(
                session=session, caller=caller(request), team_id=team_id, delivery_id=delivery_id
            )
    except webhook_replay.DeliveryNotFound as exc:
        raise PageNotFound("delivery_id", str(exc)) from exc
    except webhooks.WebhookNotSet as exc:
        raise PageNotFound("webhook", str(exc)) from exc
    return RedeliveryOut(id=new_id, redelivery_of=delivery_id)
