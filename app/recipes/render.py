"""One entry point for every export format, and the explained view of a recipe for the page."""

from __future__ import annotations

from collections.abc import Mapping
from string import Template
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from app.recipes import (
    export_clusters,
    export_encoder,
    export_grpo,
    export_hosted,
    export_trainers,
)
from app.recipes.catalog import Recipe, get_recipe, load_catalog
from app.recipes.errors import NotAvailable, UnknownFormat
from app.recipes.params import PARAM_KEYS, RecipeParams, params_from_profile, resolve_params

Format = Literal[
    "trl",
    "axolotl",
    "llamafactory",
    "openai",
    "together",
    "fireworks",
    "eval",
    "deepspeed",
    "skypilot",
    "kubernetes",
    "slurm",
    "grader",
    "script",
]
FORMATS: tuple[str, ...] = get_args(Format)
TRAINER_FORMATS = ("trl", "axolotl", "llamafactory")
# Schedulers the app does not drive: each export wraps the TRL config (issue 10).
CLUSTER_FORMATS = ("skypilot", "kubernetes", "slurm")
CLUSTER_FILES = {
    "skypilot": ("skypilot.yaml", "application/yaml", "sky launch"),
    "kubernetes": ("kubernetes.yaml", "application/yaml", "kubectl apply -f"),
    "slurm": ("slurm.sh", "text/x-shellscript", "sbatch"),
}


class Rendered(BaseModel):
    """An exported file: its content, a suggested file name, media type and notes for the user."""

    model_config = ConfigDict(frozen=True)

    recipe: str
    format: str
    filename: str
    media_type: str
    content: str
    command: str | None = None
    notes: tuple[str, ...] = ()


def check_format(fmt: str) -> Format:
    """The format if known, else UnknownFormat naming it and the allowed ones."""
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}", key="format")
    return fmt  # type: ignore[return-value]


def eval_starter(recipe: Recipe, params: RecipeParams) -> Rendered:
    """The recipe's eval starter with its placeholders filled from the parameters."""
    starter = load_catalog().starters[recipe.eval_starter]
    model_args = (
        f"pretrained={params.base_model},peft={params.output_dir}"
        if recipe.trains_adapter
        else f"pretrained={params.output_dir}"
    )
    eval_file = "data/eval.csv" if starter.tool == "promptfoo" else "data/eval.jsonl"
    values = {
        "base_model": params.base_model,
        "output_dir": params.output_dir,
        "model_args": model_args,
        "eval_file": eval_file,
    }
    return Rendered(
        recipe=recipe.id,
        format="eval",
        filename=starter.filename,
        media_type="text/x-python" if starter.filename.endswith(".py") else "application/yaml",
        content=Template(starter.content).safe_substitute(values),
        command=Template(starter.command).safe_substitute(values),
        notes=(f"Runs with {starter.tool}.",),
    )


def render(recipe: Recipe, params: RecipeParams, fmt: str) -> Rendered:
    """Export the recipe in one format; NotAvailable when the method does not exist there."""
    fmt = check_format(fmt)
    if fmt == "eval":
        return eval_starter(recipe, params)
    if not recipe.is_training:
        raise NotAvailable(
            f"{recipe.id} is a playbook: only --format eval applies (its eval starter)",
            key="format",
        )
    if recipe.method == "grpo":
        return _render_grpo(recipe, params, fmt)
    if recipe.method == "classification":
        return _render_encoder(recipe, params, fmt)
    if fmt == "script":
        raise NotAvailable(
            f"{recipe.id} is not available as a script: only the encoder student "
            "(encoder-student) is one; its trainer has a config format",
            key="format",
        )
    if fmt in CLUSTER_FORMATS:
        trl = render(recipe, params, "trl")
        return _render_cluster(recipe, params, fmt, {trl.filename: trl.content})
    if fmt == "grader":
        raise NotAvailable(
            f"{recipe.id} is not available as a grader: only reinforcement fine-tuning "
            "(rft-lora) has one",
            key="format",
        )
    if fmt == "deepspeed":
        return Rendered(
            recipe=recipe.id,
            format=fmt,
            filename=export_trainers.deepspeed_file(recipe),
            media_type="application/json",
            content=export_trainers.deepspeed_json(recipe, params),
            notes=("Save it beside the Axolotl or LLaMA-Factory config: they name this file.",),
        )
    if fmt in TRAINER_FORMATS:
        writer = {
            "trl": export_trainers.trl_yaml,
            "axolotl": export_trainers.axolotl_yaml,
            "llamafactory": export_trainers.llamafactory_yaml,
        }[fmt]
        command = export_trainers.run_command(recipe, fmt, params)
        return Rendered(
            recipe=recipe.id,
            format=fmt,
            filename=f"{recipe.id}.{fmt}.yaml",
            media_type="application/yaml",
            content=writer(recipe, params),
            command=command,
        )
    job = {
        "openai": export_hosted.openai_job,
        "together": export_hosted.together_job,
        "fireworks": export_hosted.fireworks_job,
    }[fmt]
    content, notes = job(recipe, params)
    return Rendered(
        recipe=recipe.id,
        format=fmt,
        filename=f"{recipe.id}.{fmt}.json",
        media_type="application/json",
        content=content,
        notes=tuple(notes),
    )


def _render_cluster(
    recipe: Recipe, params: RecipeParams, fmt: str, files: dict[str, str]
) -> Rendered:
    """A cluster export around the given files (the TRL config first)."""
    launch = export_clusters.plan(recipe, params, files)
    writer = {
        "skypilot": export_clusters.skypilot_task,
        "kubernetes": export_clusters.kubernetes_job,
        "slurm": export_clusters.slurm_script,
    }[fmt]
    content, notes = writer(launch)
    suffix, media_type, tool = CLUSTER_FILES[fmt]
    filename = f"{recipe.id}.{suffix}"
    command = f"{tool} {filename}"
    if fmt == "skypilot":
        command = f"sky launch -c advisor-{recipe.id} --env HF_TOKEN {filename}"
    return Rendered(
        recipe=recipe.id,
        format=fmt,
        filename=filename,
        media_type=media_type,
        content=content,
        command=command,
        notes=tuple(notes),
    )


def _render_grpo(recipe: Recipe, params: RecipeParams, fmt: Format) -> Rendered:
    """Reinforcement fine-tuning: the TRL GRPO config, its grader, and the cluster wrappers."""
    if fmt not in GRPO_FORMATS:
        raise NotAvailable(export_grpo.why_not(recipe, fmt), key="format")
    config = Rendered(
        recipe=recipe.id,
        format="trl",
        filename=f"{recipe.id}.trl.yaml",
        media_type="application/yaml",
        content=export_grpo.trl_grpo_yaml(recipe, params),
        command=export_grpo.run_command(recipe),
        notes=(f"Save the grader export as {export_grpo.GRADER_FILE} beside this file.",),
    )
    grader = Rendered(
        recipe=recipe.id,
        format="grader",
        filename=export_grpo.GRADER_FILE,
        media_type="text/x-python",
        content=export_grpo.grader_module(recipe),
        notes=(
            "TRL calls exact_match_reward for every sampled completion; edit final_answer to "
            "match how your task states its answer.",
        ),
    )
    if fmt == "trl":
        return config
    if fmt == "grader":
        return grader
    files = {config.filename: config.content, grader.filename: grader.content}
    return _render_cluster(recipe, params, fmt, files)


GRPO_FORMATS = ("trl", "grader", *CLUSTER_FORMATS)


def _render_encoder(recipe: Recipe, params: RecipeParams, fmt: Format) -> Rendered:
    """The encoder student: a transformers script; no trainer config, hosted job or cluster."""
    if fmt != "script":
        raise NotAvailable(
            f"{recipe.id} is not available for {fmt}: a sequence classifier trains with "
            "transformers' Trainer, which has no config-file CLI; use --format script",
            key="format",
        )
    return Rendered(
        recipe=recipe.id,
        format="script",
        filename=export_encoder.script_filename(recipe),
        media_type="text/x-python",
        content=export_encoder.train_script(recipe, params),
        command=export_encoder.run_command(recipe),
        notes=(
            "The script keeps 10% of the lines apart and reports accuracy and macro-F1 on them.",
        ),
    )


def available_formats(recipe: Recipe) -> list[str]:
    """Formats this recipe can be exported to (eval always)."""
    if not recipe.is_training:
        return ["eval"]
    if recipe.method == "grpo":
        return [*GRPO_FORMATS, "eval"]
    if recipe.method == "classification":
        return ["script", "eval"]
    out = ["trl"]
    if recipe.method != "distillation":
        out += ["axolotl", "llamafactory"]
    if recipe.adapter == "full" and recipe.method == "sft":
        out.append("deepspeed")  # the ZeRO-3 file the Axolotl and LLaMA-Factory configs name
    out += [
        p for p in ("openai", "together", "fireworks") if recipe.id in export_hosted.AVAILABLE[p]
    ]
    return [*out, *CLUSTER_FORMATS, "eval"]


def describe(recipe: Recipe, params: RecipeParams) -> dict[str, Any]:
    """The recipe with every parameter and hyperparameter explained in one line (page/API)."""
    explain = load_catalog().explain
    values = params.model_dump()
    return {
        "id": recipe.id,
        "kind": recipe.kind,
        "title": recipe.title,
        "summary": recipe.summary,
        "when": recipe.when,
        "method": recipe.method,
        "adapter": recipe.adapter,
        "dataset_format": recipe.dataset_format,
        "steps": list(recipe.steps),
        "params": [{"key": k, "value": values[k], "explanation": explain[k]} for k in PARAM_KEYS],
        "params_b_source": params.params_source,
        "hyperparameters": [
            {"key": k, "value": v, "explanation": explain[k]} for k, v in recipe.hyper.items()
        ],
        "formats": available_formats(recipe),
        "eval_starter": {
            "tool": load_catalog().starters[recipe.eval_starter].tool,
            "filename": load_catalog().starters[recipe.eval_starter].filename,
        },
        "sources": list(recipe.sources),
        "catalog_version": load_catalog().version,
    }


def prepare(
    recipe_id: str, overrides: Mapping[str, Any] | None = None, *, profile: Any = None
) -> tuple[Recipe, RecipeParams]:
    """The recipe and its parameters: recipe defaults, then the profile's, then the user's."""
    recipe = get_recipe(recipe_id)
    base = params_from_profile(profile) if profile is not None else None
    return recipe, resolve_params(recipe, overrides, base=base)
