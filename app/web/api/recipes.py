"""JSON API for recipes: list, explained recipe, exports, estimates and dataset checks."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.recipes import (
    METHODS,
    PARAM_KEYS,
    Estimate,
    Recipe,
    RecipeError,
    RecipeParams,
    check_bytes,
    describe,
    estimate,
    get_recipe,
    list_ids,
    render,
    resolve_params,
)
from app.recipes.hardware import gpu_names
from app.recipes.render import FORMATS
from app.web.errors import documented, error_body, errors_body
from app.web.uploads import MAX_UPLOAD_BODY_BYTES, MAX_UPLOAD_BYTES

router = APIRouter(prefix="/api/recipes", tags=["recipes"])
BAD_INPUT = documented(422, "An unknown recipe, format or parameter, or a bad value.")
# What an export can be: the media types `render` gives its files.
RENDERED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The exported file, in the format's own media type.",
        "content": {
            kind: {"schema": {}}  # a config file: YAML, JSON or a script
            for kind in (
                "application/yaml",
                "application/json",
                "text/x-python",
                "text/x-shellscript",
            )
        },
    }
}

_RESERVED_QUERY = {"format", "download"}


def _allowed(field: str, kind: str) -> list[str] | None:
    """The allowed values to show next to an error on this field, when there is a closed set."""
    if kind == "unknown_key":
        return list(PARAM_KEYS)
    if kind == "not_available":
        return None
    return {
        "recipe": list_ids(),
        "format": list(FORMATS),
        "method": list(METHODS),
        "gpu": gpu_names(),
    }.get(field)


def _problem(
    field: str, message: str, status: int = 422, kind: str = "value_error"
) -> JSONResponse:
    """The app's error body: field, message, allowed values, type."""
    body = error_body(field, message, kind=kind, allowed=_allowed(field, kind))
    return JSONResponse(body, status_code=status)


def _error(exc: RecipeError) -> JSONResponse:
    kind = type(exc).__name__
    kind = {
        "UnknownKey": "unknown_key",
        "UnknownRecipe": "unknown_recipe",
        "UnknownFormat": "unknown_format",
        "NotAvailable": "not_available",
    }.get(kind, "value_error")
    return _problem(exc.key or "params", exc.message, kind=kind)


def _params(recipe: Recipe, request: Request) -> RecipeParams:
    """Parameters from the query string; every key but format/download must be a parameter key."""
    overrides = {k: v for k, v in request.query_params.items() if k not in _RESERVED_QUERY}
    return resolve_params(recipe, overrides)


@router.get("", summary="Recipe and playbook ids")
def list_recipes() -> list[str]:
    """Every recipe and playbook id, in catalog order (mirrors `advisor recipe list`)."""
    return list_ids()


@router.get("/{recipe_id}", summary="A recipe with every field explained", responses=BAD_INPUT)
def show_recipe(recipe_id: str, request: Request) -> Any:
    """The recipe, its resolved parameters and hyperparameters, each with a one-line explanation."""
    try:
        recipe = get_recipe(recipe_id)
        return describe(recipe, _params(recipe, request))
    except RecipeError as exc:
        return _error(exc)


@router.get(
    "/{recipe_id}/render",
    summary="The recipe exported in one format",
    responses={**BAD_INPUT, **RENDERED},
)
def render_recipe(
    recipe_id: str, request: Request, format: str = "trl", download: bool = False
) -> Response:
    """The exported file (TRL/Axolotl/LLaMA-Factory YAML, hosted job JSON or eval starter)."""
    try:
        recipe = get_recipe(recipe_id)
        rendered = render(recipe, _params(recipe, request), format)
    except RecipeError as exc:
        return _error(exc)
    headers = {}
    if download:
        headers["Content-Disposition"] = (
            f'attachment; filename="{rendered.filename.rsplit("/", 1)[-1]}"'
        )
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)


@router.get(
    "/{recipe_id}/estimate",
    summary="Memory, GPU, time and cost",
    response_model=Estimate,
    responses=BAD_INPUT,
)
def estimate_recipe(recipe_id: str, request: Request) -> Any:
    """The estimate with its assumptions (mirrors `advisor recipe estimate`)."""
    try:
        recipe = get_recipe(recipe_id)
        return estimate(recipe, _params(recipe, request))
    except RecipeError as exc:
        return _error(exc)


async def _read_body(request: Request) -> bytes | JSONResponse:
    """The JSONL bytes from an uploaded file, a JSON array of records, or a raw JSONL body.

    The size limit applies to what was received, not to the records re-encoded as JSONL.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _problem("file", "multipart body needs a `file` field holding the JSONL file")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        return _too_big() if len(data) > MAX_UPLOAD_BYTES else data
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            return _too_big()
        chunks.append(chunk)
    return b"".join(chunks)


def _as_jsonl(data: bytes) -> bytes | JSONResponse:
    """A JSON array of records re-encoded as JSONL lines."""
    try:
        records = json.loads(data)
    except json.JSONDecodeError as exc:
        return _problem("body", f"the body is not valid JSON: {exc.msg}")
    if not isinstance(records, list):
        return _problem("body", "a JSON body must be an array of records (one per example)")
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode()


def _check(data: bytes, *, is_json: bool, method: str, max_length: int) -> Any:
    """Parse and check the dataset: the report, or the error response."""
    body = _as_jsonl(data) if is_json else data
    if isinstance(body, JSONResponse):
        return body
    try:
        report = check_bytes(body, method, max_length=max_length, max_bytes=MAX_UPLOAD_BYTES)
    except RecipeError as exc:
        return _error(exc)
    if not report.ok:
        detail = [
            {"field": f"line {e.line}", "message": e.message, "allowed": None, "type": e.code}
            for e in report.errors[:20]
        ]
        problems = {**errors_body(detail), "report": report.model_dump(mode="json")}
        return JSONResponse(problems, status_code=422)
    return report.model_dump()


def _too_big() -> JSONResponse:
    """413 naming the limit."""
    return _problem("file", f"the dataset is over the {MAX_UPLOAD_BYTES}-byte limit", status=413)


@router.post(
    "/dataset-check",
    summary="Check a JSONL dataset for a training method",
    max_body_size=MAX_UPLOAD_BODY_BYTES,
    responses={**BAD_INPUT, **documented(413, "The dataset is over the upload limit.")},
)
async def dataset_check(request: Request, method: str = "sft", max_length: int = 2048) -> Any:
    """The dataset report; 422 with the first errors listed when the file has errors."""
    if method not in METHODS:
        return _problem("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    body = await _read_body(request)
    if isinstance(body, JSONResponse):
        return body
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    # Parsing up to the upload limit takes long enough to stall the event loop: a thread.
    return await run_in_threadpool(
        _check,
        body,
        is_json=content_type == "application/json",
        method=method,
        max_length=max_length,
    )
