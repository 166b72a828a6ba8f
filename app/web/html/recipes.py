"""Recipe pages: the catalog, one configurable recipe, its exports and a dataset check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.decision.profile import Profile
from app.recipes import Recipe, RecipeError, available_formats, check_bytes, render
from app.services import assessments, jobs
from app.services.access import Caller
from app.web.credentials import caller
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.errors import PageNotFound
from app.web.presenters import jobs as job_presenter
from app.web.presenters import recipes, urls
from app.web.presenters.recipes import DATASET_METHODS, Configured
from app.web.rendering import is_htmx, renderer
from app.web.uploads import MAX_UPLOAD_BODY_BYTES, MAX_UPLOAD_BYTES

router = APIRouter(include_in_schema=False)


def _configure(request: Request, recipe: Recipe) -> Configured:
    """The recipe configured by the query string over the named assessment's answers."""
    assessment_id = request.query_params.get(urls.ASSESSMENT_QUERY) or None
    profile = None
    if assessment_id:
        with transaction(request) as session:
            profile = _profile(session, caller(request), assessment_id)
    return recipes.configure(
        recipe, request.query_params, assessment_id=assessment_id, profile=profile
    )


def _profile(session: Session, credentials: Caller, assessment_id: str) -> Profile:
    """The profile an assessment's answers make, if the caller holds its key (else a 404)."""
    return assessments.assessment_state(
        session=session, caller=credentials, assessment_id=assessment_id
    ).profile


def _run(request: Request, configured: Configured) -> dict[str, object] | None:
    """The Run section of a training recipe: the runners offered here, or how to get one."""
    if "trl" not in available_formats(configured.recipe):
        return None  # playbooks, and the encoder student: the job runner runs `trl` configs
    settings = request.app.state.settings
    choices = job_presenter.RunChoices(
        runners=jobs.offered_runners(settings), install_hint=jobs.train_extra_missing("local")
    )
    return job_presenter.run_context(
        recipe_id=configured.recipe.id,
        assessment_id=configured.assessment_id,
        raw=configured.raw,
        valid=not configured.errors,
        choices=choices,
    )


def _query(request: Request) -> str:
    """The query string as given: the stable part of every URL of this configuration."""
    return urls.query(request.query_params.multi_items())


@router.get("/recipes", response_class=HTMLResponse)
def catalog(request: Request) -> Response:
    """Every recipe and playbook with its one-line summary."""
    return renderer(request).render(request, "recipes/catalog.html", recipes.catalog_context())


@router.get("/recipes/{recipe_id}", response_class=HTMLResponse)
def recipe_page(recipe_id: str, request: Request) -> Response:
    """One recipe configured by the query string; 422 with each bad field marked."""
    configured = _configure(request, recipes.recipe_or_404(recipe_id))
    query = _query(request)
    context = recipes.recipe_context(configured, query)
    context["run"] = _run(request, configured)
    response: Response = renderer(request).render(
        request,
        "recipes/recipe.html",
        context,
        status_code=422 if configured.errors else 200,
    )
    if is_htmx(request):
        # The configured recipe's URL, query included, is the one to bookmark and share.
        response.headers["HX-Push-Url"] = urls.recipe(configured.recipe.id, query)
    return response


@router.get("/recipes/{recipe_id}/export/{fmt}")
def export(recipe_id: str, fmt: str, request: Request) -> Response:
    """The exported file as a download; 404 naming the formats, 422 naming a bad key."""
    recipe = recipes.recipe_or_404(recipe_id)
    formats = available_formats(recipe)
    if fmt not in formats:
        raise PageNotFound(
            "fmt",
            f"there is no export {fmt!r} of {recipe.id}; available formats: {', '.join(formats)}",
        )
    configured = _configure(request, recipe)
    # A download link answers with the file or with plain text a person can read: no page.
    if configured.errors:
        return PlainTextResponse("\n".join(configured.errors.values()) + "\n", status_code=422)
    try:
        rendered = render(recipe, configured.params, fmt)
    except RecipeError as exc:
        return PlainTextResponse(exc.message + "\n", status_code=422)
    filename = rendered.filename.rsplit("/", 1)[-1]
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/recipes/{recipe_id}/dataset-check")
def dataset_check_get(recipe_id: str) -> Response:
    """The check is a form post; a reload or bookmark lands on the recipe's form."""
    recipe = recipes.recipe_or_404(recipe_id)
    return RedirectResponse(urls.recipe(recipe.id, fragment="dataset"), status_code=303)


def _text(value: object, default: str = "") -> str:
    """A form value as text (uploads and missing values give the default)."""
    return value if isinstance(value, str) else default


def _max_length(value: str) -> int:
    """The recipe's max_length carried by the form, within sane bounds."""
    digits = value.strip()
    # ASCII digits only: "²".isdigit() holds, but int() refuses it.
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 7:
        return 2048
    return min(max(int(digits), 16), 1_048_576)


@router.post(
    "/recipes/{recipe_id}/dataset-check",
    response_class=HTMLResponse,
    max_body_size=MAX_UPLOAD_BODY_BYTES,
)
async def dataset_check(recipe_id: str, request: Request) -> Response:
    """Check an uploaded JSONL file for the recipe's method; 422 listing the first errors."""
    recipe = recipes.recipe_or_404(recipe_id)
    method = DATASET_METHODS.get(recipe.method or "")
    if method is None:
        raise PageNotFound(
            "recipe_id", f"{recipe.id} is a playbook: it has no training dataset to check"
        )
    form = await request.form()
    check_csrf(request, _text(form.get("csrf_token")) or None)
    upload, limit = form.get("file"), MAX_UPLOAD_BYTES
    max_length, back = _max_length(_text(form.get("max_length"), "2048")), _text(form.get("back"))
    data = await upload.read(limit + 1) if isinstance(upload, UploadFile) else b""
    report, error = None, None
    name = upload.filename if isinstance(upload, UploadFile) else None
    if not data and name:
        error = (
            f"{name} is empty: it needs one JSON object per line, for example "
            '{"prompt": "...", "completion": "..."}.'
        )
    elif not data:
        error = "Choose a JSONL file with one example per line."
    else:
        try:
            # Parsing up to the upload limit takes long enough to stall the loop: a thread.
            report = await run_in_threadpool(
                check_bytes, data, method, max_length=max_length, max_bytes=limit
            )
        except RecipeError as exc:
            error = exc.message.removeprefix("dataset: ").capitalize() + "."
    context = recipes.dataset_context(
        recipe,
        method=method,
        back_query=back,
        max_length=max_length,
        report=report,
        error=error,
        filename=(upload.filename or "the file") if isinstance(upload, UploadFile) else None,
    )
    status = 200 if report is not None and report.ok else 422
    response: Response = renderer(request).render(
        request, "recipes/dataset.html", context, status_code=status
    )
    if is_htmx(request):
        response.headers["HX-Push-Url"] = "false"  # a POST result has no URL of its own
    return response
