"""Recipe pages: the catalog, one configurable recipe, its exports and a dataset check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.decision.bank import BANK
from app.decision.profile import Profile
from app.recipes import (
    PARAM_KEYS,
    Recipe,
    RecipeError,
    RecipeParams,
    available_formats,
    check_bytes,
    describe,
    estimate,
    get_recipe,
    load_catalog,
    params_from_profile,
    prepare,
    render,
)
from app.recipes.hardware import load_hardware
from app.services import assessments
from app.web.api_recipes import MAX_UPLOAD_BYTES
from app.web.csrf import check_csrf
from app.web.deps import transaction
from app.web.rendering import is_htmx
from app.web.views import PageNotFound

router = APIRouter(include_in_schema=False)

ASSESSMENT = "assessment"
TEACHER_KEYS = ("teacher_model", "teacher_params_b")
# Sizes follow the model unless typed: the field stays empty and shows the size in use.
DERIVED = ("params_b", "teacher_params_b")
LABELS = {
    "base_model": "Base model (hub id or local path)",
    "params_b": "Parameter count (billions)",
    "dataset": "Dataset path",
    "examples": "Training examples",
    "tokens_per_example": "Tokens per example",
    "epochs": "Epochs",
    "max_steps": "Max steps",
    "max_length": "Max length (tokens)",
    "gpu": "GPU type",
    "price_per_gpu_hour": "Price per GPU-hour (USD)",
    "teacher_model": "Teacher model",
    "teacher_params_b": "Teacher parameter count (billions)",
    "output_dir": "Output directory",
}
NUMERIC = {"params_b", "epochs", "price_per_gpu_hour", "teacher_params_b"}
INTEGER = {"examples", "tokens_per_example", "max_steps", "max_length"}
FORMAT_LABELS = {
    "trl": "TRL CLI config (YAML)",
    "axolotl": "Axolotl config (YAML)",
    "llamafactory": "LLaMA-Factory config (YAML)",
    "openai": "OpenAI fine-tuning job (JSON)",
    "together": "Together AI fine-tuning job (JSON)",
    "fireworks": "Fireworks fine-tuning job (JSON)",
    "eval": "Eval starter",
}
SOURCES = {
    "given": "as given",
    "default": "the recipe's default",
    "config.json": "read from the model's config.json",
    "name": "read from the model's name",
}
DATASET_METHODS = {"sft": "sft", "dpo": "dpo", "distillation": "distill"}
METHOD_LABELS = {
    "sft": "supervised fine-tuning: `messages` chat lines or `prompt`/`completion` pairs",
    "dpo": "preference tuning: `prompt`/`chosen`/`rejected` lines",
    "distill": "distillation: prompts only (`prompt` or a `messages` list ending with user)",
}
LISTED_ERRORS = 20
PLACEHOLDERS = {"max_steps": "none: epochs apply", "price_per_gpu_hour": "the table's price"}
GROUPS = (
    ("Model", ("base_model", "params_b", "teacher_model", "teacher_params_b")),
    (
        "Data and length of training",
        ("dataset", "examples", "tokens_per_example", "epochs", "max_steps", "max_length"),
    ),
    ("Hardware and price", ("gpu", "price_per_gpu_hour")),
    ("Output", ("output_dir",)),
)


@dataclass
class Configured:
    """A recipe with its parameters as typed, as resolved, and what was wrong with them."""

    recipe: Recipe
    params: RecipeParams
    raw: dict[str, str]
    errors: dict[str, str]
    prefilled: dict[str, Any]
    assessment_id: str | None


def _recipe_or_404(recipe_id: str) -> Recipe:
    """The catalog entry, or the 404 page naming the known ids."""
    try:
        return get_recipe(recipe_id)
    except RecipeError as exc:
        raise PageNotFound(exc.message) from None


def _configure(request: Request, recipe: Recipe) -> Configured:
    """Resolve the query's parameters over the assessment's; collect every bad field."""
    assessment_id = request.query_params.get(ASSESSMENT) or None
    profile = None
    if assessment_id:
        with transaction(request) as session:
            profile = _profile(session, assessment_id)
    raw = {k: v for k, v in request.query_params.items() if k != ASSESSMENT}
    overrides, errors = dict(raw), {}
    params: RecipeParams | None = None
    for _ in range(len(raw) + 1):
        try:
            params = prepare(recipe.id, overrides, profile=profile)[1]
            break
        except RecipeError as exc:
            key = exc.key or "params"
            errors[key] = exc.message
            if key not in overrides:
                break
            del overrides[key]
    if params is None:
        params = prepare(recipe.id, None, profile=profile)[1]
    prefilled = params_from_profile(profile) if profile is not None else {}
    return Configured(recipe, params, raw, errors, prefilled, assessment_id)


def _profile(session: Session, assessment_id: str) -> Profile:
    """The profile an assessment's answers make."""
    return assessments.assessment_state(session=session, assessment_id=assessment_id).profile


def _query(request: Request) -> str:
    """The query string as given: the stable part of every URL of this configuration."""
    items = [(k, v) for k, v in request.query_params.multi_items()]
    return "?" + urlencode(items) if items else ""


def _shown(value: Any) -> str:
    """A resolved value as a form field shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _fields(c: Configured) -> list[dict[str, Any]]:
    """Every parameter field of the form with its explanation, value and any error."""
    explain = load_catalog().explain
    values = c.params.model_dump()
    teacher = c.recipe.method == "distillation" or "teacher_model" in c.recipe.defaults
    out = []
    for key in PARAM_KEYS:
        if key in TEACHER_KEYS and not teacher:
            continue
        resolved = _shown(values[key])
        value = c.raw.get(key, "" if key in DERIVED else resolved)
        note = None
        if key == "params_b":
            assessed = key in c.prefilled and not c.raw.get(key)
            origin = "from your assessment" if assessed else SOURCES[c.params.params_source]
            note = f"In use: {resolved} ({origin}). Leave empty to follow the model."
        elif key == "teacher_params_b" and resolved:
            note = f"In use: {resolved}. Leave empty to follow the teacher model."
        out.append(
            {
                "key": key,
                "label": LABELS[key],
                "explanation": explain[key],
                "value": value,
                "note": note,
                "error": c.errors.get(key, "").removeprefix(f"{key}: ") or None,
                "inputmode": "numeric" if key in INTEGER else "decimal" if key in NUMERIC else None,
                "placeholder": PLACEHOLDERS.get(key, resolved if key in DERIVED else ""),
            }
        )
    return out


def _groups(fields: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The form's fields in fieldsets (model, data, hardware, output)."""
    by_key = {f["key"]: f for f in fields}
    groups = [(legend, [by_key[k] for k in keys if k in by_key]) for legend, keys in GROUPS]
    return [(legend, members) for legend, members in groups if members]


def spans(text: str | None) -> list[tuple[str, bool]]:
    """Split `code` spans out of catalog prose: (text, is_code) pairs for the template."""
    parts = (text or "").split("`")
    return [(part, index % 2 == 1) for index, part in enumerate(parts) if part]


def _gpu_options(c: Configured) -> list[tuple[str, str, bool]]:
    """The GPU select: auto, cpu and the hardware table; an unknown typed value stays visible."""
    chosen = c.raw.get("gpu", c.params.gpu)
    options = [
        ("auto", "auto: the smallest that fits"),
        ("cpu", "cpu: a local CPU run (smoke tests)"),
        *(
            (g.type, f"{g.type} · {g.memory_gb:g} GB · ${g.price_per_hour:.2f}/h")
            for g in load_hardware().gpus
        ),
    ]
    out = [(v, label, v.lower() == chosen.strip().lower()) for v, label in options]
    if not any(selected for *_, selected in out):
        out.append((chosen, f"{chosen} (not a GPU type)", True))
    return out


def _duration(hours: float) -> str:
    """Hours in words a person plans with."""
    if hours < 1:
        return f"about {max(1, round(hours * 60))} minutes"
    if hours < 48:
        return f"about {hours:.1f} hours"
    return f"about {hours / 24:.1f} days"


def _estimate_view(c: Configured) -> dict[str, Any] | None:
    """The estimate with friendly numbers; None for playbooks."""
    if not c.recipe.is_training:
        return None
    e = estimate(c.recipe, c.params)
    mantissa, _, exponent = f"{e.train_flops:.2e}".partition("e")
    return {
        "e": e,
        "flops_mantissa": mantissa,
        "flops_exponent": int(exponent),
        "duration": _duration(e.hours),
    }


def _exports(c: Configured, query: str) -> list[dict[str, Any]]:
    """Each available format rendered, with its stable download URL."""
    out = []
    for fmt in available_formats(c.recipe):
        try:
            rendered, problem = render(c.recipe, c.params, fmt), None
        except RecipeError as exc:
            rendered, problem = None, exc.message
        out.append(
            {
                "format": fmt,
                "label": FORMAT_LABELS.get(fmt, fmt),
                "rendered": rendered,
                "problem": problem,
                "url": f"/recipes/{c.recipe.id}/export/{fmt}{query}",
            }
        )
    return out


def _still_prefilled(c: Configured) -> dict[str, str]:
    """The assessment's values the form still holds (the user may have changed some)."""
    shown = {k: _shown(v) for k, v in c.prefilled.items()}
    return {k: v for k, v in shown.items() if c.raw.get(k, v).strip().lower() == v.lower()}


def _page_context(request: Request, c: Configured) -> dict[str, Any]:
    """Everything recipe.html shows."""
    query = _query(request)
    ok = not c.errors
    exports = _exports(c, query) if ok else []
    fields = _fields(c) if c.recipe.is_training else []
    known = {f["key"] for f in fields}
    info = describe(c.recipe, c.params)
    return {
        "recipe": c.recipe,
        "info": info,
        "params": c.params,
        "groups": _groups(fields),
        "hyper": [
            (h["key"], _shown(h["value"]), h["explanation"]) for h in info["hyperparameters"]
        ],
        "spans": spans,
        "gpu_options": _gpu_options(c),
        "errors": c.errors,
        "other_errors": [m for k, m in c.errors.items() if k not in known],
        "estimate": _estimate_view(c) if ok else None,
        "exports": [x for x in exports if x["format"] != "eval"],
        "eval": next((x for x in exports if x["format"] == "eval"), None),
        "assessment_id": c.assessment_id,
        "prefilled": _still_prefilled(c),
        "assessment_sets_any": bool(c.prefilled),
        "dataset_method": DATASET_METHODS.get(c.recipe.method or ""),
        "method_labels": METHOD_LABELS,
        "back_query": query.removeprefix("?"),
        "upload_limit_kb": MAX_UPLOAD_BYTES // 1024,
        "ruleset": BANK.version,
    }


def _pages(request: Request) -> Any:
    """The app's template renderer."""
    return request.app.state.pages


@router.get("/recipes", response_class=HTMLResponse)
def catalog(request: Request) -> Response:
    """Every recipe and playbook with its one-line summary."""
    recipes = load_catalog().recipes
    context = {
        "training": [r for r in recipes if r.is_training],
        "playbooks": [r for r in recipes if not r.is_training],
        "ruleset": BANK.version,
    }
    return _pages(request).render(request, "_recipe_catalog.html", context)


@router.get("/recipes/{recipe_id}", response_class=HTMLResponse)
def recipe_page(recipe_id: str, request: Request) -> Response:
    """One recipe configured by the query string; 422 with each bad field marked."""
    configured = _configure(request, _recipe_or_404(recipe_id))
    status = 422 if configured.errors else 200
    response: Response = _pages(request).render(
        request, "recipe.html", _page_context(request, configured), status_code=status
    )
    if is_htmx(request):
        # The configured recipe's URL, query included, is the one to bookmark and share.
        response.headers["HX-Push-Url"] = request.url.path + _query(request)
    return response


@router.get("/recipes/{recipe_id}/export/{fmt}")
def export(recipe_id: str, fmt: str, request: Request) -> Response:
    """The exported file as a download; 404 naming the formats, 422 naming a bad key."""
    recipe = _recipe_or_404(recipe_id)
    formats = available_formats(recipe)
    if fmt not in formats:
        raise PageNotFound(
            f"there is no export {fmt!r} of {recipe.id}; available formats: {', '.join(formats)}"
        )
    configured = _configure(request, recipe)
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
    recipe = _recipe_or_404(recipe_id)
    return RedirectResponse(f"/recipes/{recipe.id}#dataset", status_code=303)


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


# The upload may be larger than the app-wide body limit; the multipart framing needs a margin.
@router.post(
    "/recipes/{recipe_id}/dataset-check",
    response_class=HTMLResponse,
    max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
)
async def dataset_check(recipe_id: str, request: Request) -> Response:
    """Check an uploaded JSONL file for the recipe's method; 422 listing the first errors."""
    recipe = _recipe_or_404(recipe_id)
    method = DATASET_METHODS.get(recipe.method or "")
    if method is None:
        raise PageNotFound(f"{recipe.id} is a playbook: it has no training dataset to check")
    form = await request.form()
    check_csrf(request, _text(form.get("csrf_token")) or None)
    upload, limit = form.get("file"), MAX_UPLOAD_BYTES
    max_length, back = _max_length(_text(form.get("max_length"), "2048")), _text(form.get("back"))
    data = await upload.read(limit + 1) if isinstance(upload, UploadFile) else b""
    report, error = None, None
    if not data:
        error = "Choose a JSONL file with one example per line."
    else:
        try:
            # Parsing up to the upload limit takes long enough to stall the loop: a thread.
            report = await run_in_threadpool(
                check_bytes, data, method, max_length=max_length, max_bytes=limit
            )
        except RecipeError as exc:
            error = exc.message.removeprefix("dataset: ").capitalize() + "."
    context = {
        "recipe": recipe,
        "dataset_method": method,
        "method_labels": METHOD_LABELS,
        "spans": spans,
        "back_query": back,
        "back_url": f"/recipes/{recipe.id}" + (f"?{back}" if back else ""),
        "max_length": max_length,
        "upload_limit_kb": limit // 1024,
        "report": report,
        "error": error,
        "filename": (upload.filename or "the file") if isinstance(upload, UploadFile) else None,
        "listed": LISTED_ERRORS,
        "ruleset": BANK.version,
    }
    status = 200 if report is not None and report.ok else 422
    response: Response = _pages(request).render(
        request, "_recipe_dataset.html", context, status_code=status
    )
    if is_htmx(request):
        response.headers["HX-Push-Url"] = "false"  # a POST result has no URL of its own
    return response
