"""What the recipe pages show: the catalog, a configured recipe and a dataset check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from app.decision.bank import BANK
from app.decision.profile import Profile
from app.recipes import (
    PARAM_KEYS,
    Recipe,
    RecipeError,
    RecipeParams,
    available_formats,
    describe,
    estimate,
    get_recipe,
    load_catalog,
    params_from_profile,
    prepare,
    render,
)
from app.recipes.convert import layouts_read, tool_layouts
from app.recipes.dataset import DatasetReport
from app.recipes.hardware import load_hardware
from app.web.errors import PageNotFound
from app.web.presenters import urls
from app.web.presenters.recipe_answers import (
    PAGE_KEYS,
    hosted_cost,
    hosted_first,
    page_settings,
    plain_error,
    playbook_context,
    provider_options,
)
from app.web.uploads import MAX_UPLOAD_BYTES

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
    "deepspeed": "DeepSpeed ZeRO-3 config (JSON), named by the Axolotl and LLaMA-Factory configs",
    "eval": "Eval starter",
    "grader": "Grader (reward function, Python)",
    "skypilot": "SkyPilot task (YAML)",
    "kubernetes": "Kubernetes ConfigMap and Job (YAML)",
    "slurm": "Slurm batch script (sbatch)",
    "script": "Training script (Python, transformers)",
}
# Schedulers the app does not drive: grouped apart on the page, each wrapping the TRL config.
CLUSTER_FORMATS = ("skypilot", "kubernetes", "slurm")
SOURCES = {
    "given": "as given",
    "default": "the recipe's default",
    "config.json": "read from the model's config.json",
    "name": "read from the model's name",
}
DATASET_METHODS = {
    "sft": "sft",
    "dpo": "dpo",
    "distillation": "distill",
    "grpo": "grpo",
    "classification": "classify",
}
METHOD_LABELS = {
    "sft": "supervised fine-tuning: `messages` chat lines or `prompt`/`completion` pairs",
    "dpo": "preference tuning: `prompt`/`chosen`/`rejected` lines",
    "distill": "distillation: prompts only (`prompt` or a `messages` list ending with user)",
    "grpo": "reinforcement fine-tuning: `prompt` and the reference `solution` the grader checks",
    "classify": "a classifier: the input `text` and the teacher's `label`",
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
    settings: dict[str, Any] | None = None  # hosted or not, provider, owned GPU
    page: dict[str, str] | None = None  # the page's own query keys (PAGE_KEYS)
    profile: Profile | None = None


def recipe_or_404(recipe_id: str) -> Recipe:
    """The catalog entry, or the 404 page naming the known ids."""
    try:
        return get_recipe(recipe_id)
    except RecipeError as exc:
        raise PageNotFound("recipe_id", exc.message) from None


def configure(
    recipe: Recipe,
    query: Mapping[str, str],
    *,
    assessment_id: str | None,
    profile: Profile | None,
) -> Configured:
    """Resolve the query's parameters over the assessment's; collect every bad field."""
    page = {k: v for k, v in query.items() if k in PAGE_KEYS}
    raw = {k: v for k, v in query.items() if k != urls.ASSESSMENT_QUERY and k not in PAGE_KEYS}
    overrides, errors = dict(raw), {}
    settings = page_settings(page, profile)
    if settings["owned"] and recipe.is_training and not raw.get("price_per_gpu_hour", "").strip():
        overrides["price_per_gpu_hour"] = "0"  # an owned GPU costs nothing per hour
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
    return Configured(
        recipe, params, raw, errors, prefilled, assessment_id, settings, page, profile
    )


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
                "error": plain_error(LABELS[key], c.errors[key]) if key in c.errors else None,
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
        "range": e.hours_range,
        "range_words": (
            f"{_duration(e.hours_range[0])} to {_duration(e.hours_range[1]).removeprefix('about ')}"
            if e.hours_range
            else None
        ),
    }


def _exports(c: Configured, query_string: str) -> list[dict[str, Any]]:
    """Each available format rendered, with its stable download URL."""
    out = []
    for fmt in hosted_first(available_formats(c.recipe), c.settings or page_settings({}, None)):
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
                "url": urls.recipe_export(c.recipe.id, fmt, query_string),
            }
        )
    return out


def _layouts_read(recipe: Recipe) -> list[tuple[str, str]]:
    """Per export of the recipe: the row layouts its tool reads (the dataset section)."""
    method = DATASET_METHODS.get(recipe.method or "")
    if method is None:
        return []
    return [
        (FORMAT_LABELS.get(fmt, fmt), layouts_read(method, fmt))
        for fmt in available_formats(recipe)
        if fmt in ("trl", "axolotl", "llamafactory", "openai", "together", "fireworks")
    ]


def _still_prefilled(c: Configured) -> dict[str, str]:
    """The assessment's values the form still holds (the user may have changed some)."""
    shown = {k: _shown(v) for k, v in c.prefilled.items()}
    return {k: v for k, v in shown.items() if c.raw.get(k, v).strip().lower() == v.lower()}


def _good_query(query_string: str, errors: Mapping[str, str]) -> str:
    """The configuration's query without the values in error: what the page still shows."""
    items = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k not in errors]
    return urls.query(items)


def recipe_context(c: Configured, query_string: str) -> dict[str, Any]:
    """Everything recipes/recipe.html shows; `query_string` is the configuration's query.

    A bad value keeps the estimate and the exports of the last valid configuration (the bad
    field at its default) on the page, with download links that leave the bad value out.
    """
    good_query = _good_query(query_string, c.errors)
    exports = _exports(c, good_query)
    fields = _fields(c) if c.recipe.is_training else []
    known = {f["key"] for f in fields}
    info = describe(c.recipe, c.params)
    settings = c.settings or page_settings({}, None)
    estimate_view = _estimate_view(c)
    formats = available_formats(c.recipe)
    return {
        "settings": settings,
        "provider_options": provider_options(settings),
        "hosted": hosted_cost(
            c.recipe, estimate_view["e"] if estimate_view else None, settings, formats
        ),
        "playbook": playbook_context(c.recipe, c.page or {}, c.profile),
        "plain_errors": {
            k: plain_error(LABELS[k], m) if k in LABELS else m for k, m in c.errors.items()
        },
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
        "estimate": estimate_view,
        "exports": [x for x in exports if x["format"] not in ("eval", *CLUSTER_FORMATS)],
        "cluster_exports": [x for x in exports if x["format"] in CLUSTER_FORMATS],
        "eval": next((x for x in exports if x["format"] == "eval"), None),
        "assessment_id": c.assessment_id,
        "prefilled": _still_prefilled(c),
        "assessment_sets_any": bool(c.prefilled),
        "dataset_method": DATASET_METHODS.get(c.recipe.method or ""),
        "layouts_read": _layouts_read(c.recipe),
        "method_labels": METHOD_LABELS,
        "back_query": query_string,
        "upload_limit_kb": MAX_UPLOAD_BYTES // 1024,
        "catalog_url": urls.recipes(),
        "recipe_url": urls.recipe(c.recipe.id),
        "reset_url": urls.recipe_for(c.recipe.id, c.assessment_id),
        "result_url": urls.result(c.assessment_id) if c.assessment_id else None,
        "dataset_check_url": urls.dataset_check(c.recipe.id),
        "api_url": urls.recipe_api(c.recipe.id),
        "ruleset": BANK.version,
    }


def catalog_context() -> dict[str, Any]:
    """Every recipe and playbook, each with its page's URL."""
    recipes = load_catalog().recipes
    return {
        "training": [(r, urls.recipe(r.id)) for r in recipes if r.is_training],
        "playbooks": [(r, urls.recipe(r.id)) for r in recipes if not r.is_training],
        "api_url": urls.recipes_api(),
        "ruleset": BANK.version,
    }


def _use_figures_url(recipe: Recipe, back_query: str, report: DatasetReport | None) -> str | None:
    """The recipe configured as before, with the file's valid examples and mean tokens."""
    if report is None or report.examples == 0:
        return None
    kept = [
        (k, v)
        for k, v in parse_qsl(back_query, keep_blank_values=True)
        if k not in ("examples", "tokens_per_example")
    ]
    figures = [
        ("examples", str(report.examples)),
        ("tokens_per_example", str(max(1, round(report.tokens_mean)))),
    ]
    return urls.recipe(recipe.id, urls.query([*kept, *figures]), fragment="estimate")


def dataset_context(
    recipe: Recipe,
    *,
    method: str,
    back_query: str,
    max_length: int,
    report: DatasetReport | None,
    error: str | None,
    filename: str | None,
) -> dict[str, Any]:
    """Everything recipes/dataset.html shows: the report or the error, and the form again."""
    return {
        "recipe": recipe,
        "dataset_method": method,
        "method_labels": METHOD_LABELS,
        "spans": spans,
        "back_query": back_query,
        "back_url": urls.recipe(recipe.id, back_query),
        "dataset_check_url": urls.dataset_check(recipe.id),
        "max_length": max_length,
        "upload_limit_kb": MAX_UPLOAD_BYTES // 1024,
        "report": report,
        "use_url": _use_figures_url(recipe, back_query, report),
        "tool_layouts": tool_layouts(method, report.formats) if report else {},
        "format_labels": FORMAT_LABELS,
        "error": error,
        "filename": filename,
        "listed": LISTED_ERRORS,
        "ruleset": BANK.version,
    }
