"""Job pages: Run from the recipe page, a job's live page, the list, cancel, the demo assets."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from jinja2_fragments import render_block
from starlette.concurrency import run_in_threadpool

from app.jobs.demo import build_demo_assets
from app.recipes import PARAM_KEYS, params_from_config
from app.services import jobs
from app.web.credentials import caller
from app.web.csrf import CSRF_FIELD, check_csrf, csrf_token
from app.web.deps import transaction
from app.web.presenters import jobs as presenter
from app.web.presenters import recipes as recipe_presenter
from app.web.presenters import urls
from app.web.rendering import is_htmx, renderer

router = APIRouter(include_in_schema=False)
LIVE_BLOCK = "live"  # the part of the job page that polls while the job runs


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@router.post("/jobs")
async def run(request: Request) -> Response:
    """The recipe page's Run form: submit, then the job's page (post, redirect, get)."""
    form = await request.form()
    check_csrf(request, _text(form.get("csrf_token")) or None)
    params = {k: _text(form.get(k)) for k in PARAM_KEYS if _text(form.get(k)).strip()}
    recipe_id = _text(form.get("recipe"))
    runner = _text(form.get("runner")) or "local"
    assessment_id = _text(form.get("assessment")) or None
    settings = request.app.state.settings
    credentials = caller(request)

    def submit() -> str:
        with transaction(request) as session:
            job = jobs.submit(
                session=session,
                caller=credentials,
                settings=settings,
                recipe_id=recipe_id,
                params=params,
                runner=runner,
                assessment_id=assessment_id,
            )
        return job.id

    job_id = await run_in_threadpool(submit)
    return RedirectResponse(urls.job(job_id), status_code=303)


@router.get("/jobs", response_class=HTMLResponse)
def job_list(request: Request) -> Response:
    """The caller's jobs, newest first, optionally of one status."""
    status = request.query_params.get(urls.STATUS_QUERY) or None
    with transaction(request) as session:
        found = jobs.list_jobs(
            session=session,
            caller=caller(request),
            status=status,
            settings=request.app.state.settings,
        )
    return renderer(request).render(
        request, "jobs/list.html", presenter.list_context(found, status)
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(job_id: str, request: Request) -> Response:
    """One job: status, elapsed, log tail, loss curve, artifacts; the live part polls."""
    settings = request.app.state.settings
    with transaction(request) as session:
        job = jobs.show(session=session, caller=caller(request), settings=settings, job_id=job_id)
    # Outside the transaction: a remote job's log comes from its runner.
    tail = jobs.log_tail(settings, job, presenter.LOG_TAIL_LINES)
    context = presenter.job_context(job, tail)
    if is_htmx(request) and request.headers.get("hx-target") == "job-live":
        # The poll: only the live block (it drops its trigger once the job has ended).
        pages = renderer(request)
        html = render_block(
            pages.env,
            "jobs/job.html",
            LIVE_BLOCK,
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(request),
            **context,
        )
        return HTMLResponse(html, headers={"Vary": "HX-Request", "Cache-Control": "no-store"})
    response = renderer(request).render(request, "jobs/job.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/jobs/{job_id}/log")
def job_log(job_id: str, request: Request) -> Response:
    """The whole log as text."""
    settings = request.app.state.settings
    with transaction(request) as session:
        job = jobs.show(session=session, caller=caller(request), settings=settings, job_id=job_id)
    text = jobs.log_tail(settings, job)
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.post("/jobs/{job_id}/cancel")
async def cancel(job_id: str, request: Request) -> Response:
    """Cancel from the job page, then back to it."""
    form = await request.form()
    check_csrf(request, _text(form.get("csrf_token")) or None)
    settings, credentials = request.app.state.settings, caller(request)

    def work() -> None:
        with transaction(request) as session:
            jobs.cancel(session=session, caller=credentials, settings=settings, job_id=job_id)

    await run_in_threadpool(work)
    return RedirectResponse(urls.job(job_id), status_code=303)


@router.post("/jobs/demo-assets/{recipe_id}")
async def demo(recipe_id: str, request: Request) -> Response:
    """Build the demo model and datasets (once), then the recipe page filled with them."""
    form = await request.form()
    check_csrf(request, _text(form.get("csrf_token")) or None)
    recipe = recipe_presenter.recipe_or_404(recipe_id)
    root = Path(request.app.state.settings.data_dir) / "demo"

    try:
        # Training a tokenizer and saving a model takes seconds of CPU: a thread.
        paths = await run_in_threadpool(build_demo_assets, root)
    except RuntimeError as exc:
        raise jobs.JobInputError("runner", str(exc)) from None
    # The page cannot read local files to size the model (a web request must not probe the
    # server's disk), so the size of the demo model we just built goes in the address.
    config = json.loads((Path(paths["base_model"]) / "config.json").read_text(encoding="utf-8"))
    size = f"{params_from_config(config):.6g}"
    url = presenter.demo_url(recipe.id, recipe.method, {**paths, "params_b": size})
    return RedirectResponse(url, status_code=303)
