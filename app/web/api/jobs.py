"""JSON API of training jobs: submit a recipe to a runner, read, list, tail logs, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from app.jobs.runner import JobStatus
from app.models import Job
from app.services import jobs
from app.web.credentials import caller
from app.web.deps import transaction
from app.web.errors import documented
from app.web.presenters import urls

BAD_INPUT = documented(
    422,
    "Bad input: a playbook or unknown recipe (field `recipe`), a runner not configured here "
    "(`runner`), a parameter out of bounds or a path outside the data dir (the parameter's "
    "own name); nothing was stored.",
)
NOT_FOUND = documented(404, "No job with that id, or not one you may see.")
router = APIRouter(prefix="/api", tags=["jobs"], responses=BAD_INPUT)


class NewJob(BaseModel):
    """Body of `POST /api/jobs`."""

    model_config = ConfigDict(extra="forbid")

    recipe: str = Field(description="A catalog training recipe id, e.g. `sft-lora`.")
    params: dict[str, str | int | float | None] = Field(
        default_factory=dict,
        description="Recipe parameters by their keys (`base_model`, `dataset`, `max_steps`, "
        "`gpu`, ...); local paths must lie inside the server's data dir.",
    )
    runner: str = Field(default="local", description="`local`, or `ray` when RAY_ADDRESS is set.")
    assessment: str | None = Field(
        default=None, description="The assessment the job belongs to (its key holders see it)."
    )


class Metrics(BaseModel):
    """What the trainer logged."""

    loss: list[tuple[int, float]] = Field(
        default_factory=list, description="Training loss as `[step, value]` pairs."
    )


class JobOut(BaseModel):
    """A job: what runs, where, its state, outputs and metrics."""

    id: str
    recipe: str
    runner: str
    status: JobStatus = Field(
        description="queued, running, succeeded, failed or cancelled (the last three are final)."
    )
    params: dict[str, Any]
    assessment: str | None
    external_id: str | None = Field(description="The runner's own id for the job.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    exit_code: int | None
    error: str | None
    artifacts: list[str] = Field(description="Output paths, relative to the job folder.")
    artifact_bytes: dict[str, int] = Field(description="Each artifact's size in bytes.")
    metrics: Metrics
    cancel_requested: bool = Field(description="A cancel was asked for and is under way.")
    url: str = Field(description="The job's page.")


def job_out(job: Job) -> JobOut:
    """The API's view of a job row."""
    artifacts = [a for a in job.artifacts or [] if isinstance(a, dict)]
    return JobOut(
        id=job.id,
        recipe=job.recipe,
        runner=job.runner,
        status=job.status,
        params=job.params,
        assessment=job.assessment_id,
        external_id=job.external_id,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        exit_code=job.exit_code,
        error=job.error,
        artifacts=[str(a["path"]) for a in artifacts],
        artifact_bytes={str(a["path"]): int(a.get("bytes", 0)) for a in artifacts},
        metrics=Metrics(loss=(job.metrics or {}).get("loss") or []),
        cancel_requested=bool(job.cancel_requested),
        url=urls.job(job.id),
    )


@router.post(
    "/jobs",
    status_code=status.HTTP_201_CREATED,
    response_model=JobOut,
    responses={
        **BAD_INPUT,
        **documented(404, "No assessment with that id, or not with your key."),
        **documented(401, "A job without an assessment needs a signed-in user."),
        **documented(507, "The data folder cannot take the job's files (full or read-only)."),
    },
)
def post_job(body: NewJob, request: Request) -> JobOut:
    """Submit a recipe to a runner; the job starts `queued` (or `failed` if the hand-off did)."""
    with transaction(request) as session:
        job = jobs.submit(
            session=session,
            caller=caller(request),
            settings=request.app.state.settings,
            recipe_id=body.recipe,
            params=body.params,
            runner=body.runner,
            assessment_id=body.assessment,
        )
    return job_out(job)


@router.get(
    "/jobs",
    response_model=list[JobOut],
    responses={**NOT_FOUND, **BAD_INPUT},
)
def get_jobs(
    request: Request,
    assessment: str | None = Query(default=None, description="Only this assessment's jobs."),
    status_filter: JobStatus | None = Query(
        default=None, alias="status", description="Only jobs in this status."
    ),
) -> list[JobOut]:
    """The jobs you may see, newest first: an assessment's, or all of yours."""
    with transaction(request) as session:
        found = jobs.list_jobs(
            session=session,
            caller=caller(request),
            assessment_id=assessment,
            status=status_filter,
            settings=request.app.state.settings,
        )
    return [job_out(job) for job in found]


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND)
def get_job(job_id: str, request: Request) -> JobOut:
    """One job, its state fresh from its runner."""
    with transaction(request) as session:
        job = jobs.show(
            session=session,
            caller=caller(request),
            settings=request.app.state.settings,
            job_id=job_id,
        )
    return job_out(job)


@router.get(
    "/jobs/{job_id}/logs",
    response_model=None,
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "The log so far, as text.",
        },
        **NOT_FOUND,
        **BAD_INPUT,
    },
)
def get_logs(
    job_id: str,
    request: Request,
    tail: int | None = Query(default=None, ge=1, le=100_000, description="Only the last lines."),
) -> PlainTextResponse:
    """The job's output (stdout and stderr) so far."""
    settings = request.app.state.settings
    with transaction(request) as session:
        job = jobs.show(session=session, caller=caller(request), settings=settings, job_id=job_id)
    # Outside the transaction: a remote job's log comes from its runner.
    return PlainTextResponse(jobs.log_tail(settings, job, tail))


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobOut,
    responses={
        **NOT_FOUND,
        **documented(503, "The job's runner could not be reached (field `runner`); retry."),
    },
)
def post_cancel(job_id: str, request: Request) -> JobOut:
    """Cancel the job: queued ones at once, running ones reach `cancelled` within 30 s."""
    with transaction(request) as session:
        job = jobs.cancel(
            session=session,
            caller=caller(request),
            settings=request.app.state.settings,
            job_id=job_id,
        )
    return job_out(job)
