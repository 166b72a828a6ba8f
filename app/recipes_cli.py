"""CLI for recipes and datasets: `advisor recipe ...`, `advisor dataset check|convert ...`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

# The recipe modules load and validate the catalog on import (about 0.17 s): only the commands
# that use them pay for it, not every `advisor` command (`recommend --batch` is benchmarked
# with its start-up).
if TYPE_CHECKING:
    from app.recipes import Recipe, RecipeError, RecipeParams

recipe_app = typer.Typer(help="Training recipes and playbooks: list, show, render, estimate.")
dataset_app = typer.Typer(help="Check training datasets (JSONL) and convert them for a trainer.")

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Parameter override KEY=VALUE (repeatable), e.g. --set gpu=H100."),
]


def _fail(exc: RecipeError) -> NoReturn:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


def _prepare(recipe_id: str, sets: list[str] | None) -> tuple[Recipe, RecipeParams]:
    """The recipe and its parameters from `--set`; a local model's config.json is read."""
    from app.recipes import get_recipe, parse_assignments, resolve_params

    recipe = get_recipe(recipe_id)
    return recipe, resolve_params(recipe, parse_assignments(sets or []), local_files=True)


@recipe_app.callback()
def _recipe_group() -> None:
    """Training recipes and playbooks."""


@dataset_app.callback()
def _dataset_group() -> None:
    """Dataset checks."""


@recipe_app.command("list")
def list_command() -> None:
    """Print the JSON list of recipe and playbook ids."""
    from app.recipes import list_ids

    _json(list_ids())


@recipe_app.command("show")
def show_command(
    recipe_id: Annotated[str, typer.Argument(metavar="ID")], sets: SetOption = None
) -> None:
    """Print the recipe with every parameter and hyperparameter explained (JSON)."""
    from app.recipes import RecipeError, describe

    try:
        _json(describe(*_prepare(recipe_id, sets)))
    except RecipeError as exc:
        _fail(exc)


@recipe_app.command("render")
def render_command(
    recipe_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="trl, axolotl, llamafactory, deepspeed, openai, together, fireworks, skypilot, "
            "kubernetes, slurm, grader or eval.",
        ),
    ] = "trl",
    sets: SetOption = None,
) -> None:
    """Print the recipe exported in one format (the file itself on stdout, notes on stderr)."""
    from app.recipes import RecipeError, render
    from app.recipes.render import check_format

    try:
        check_format(fmt)  # a wrong format is named before any parameter problem
        rendered = render(*_prepare(recipe_id, sets), fmt)
    except RecipeError as exc:
        _fail(exc)
    typer.echo(rendered.content, nl=False)
    for note in rendered.notes:
        typer.echo(f"note: {note}", err=True)


@recipe_app.command("estimate")
def estimate_command(
    recipe_id: Annotated[str, typer.Argument(metavar="ID")], sets: SetOption = None
) -> None:
    """Print memory, GPU pick, tokens, FLOPs, hours and cost with their assumptions (JSON)."""
    from app.recipes import RecipeError, estimate

    try:
        result = estimate(*_prepare(recipe_id, sets))
    except RecipeError as exc:
        _fail(exc)
    _json(result.model_dump())


@dataset_app.command("check")
def check_command(
    file: Annotated[Path, typer.Argument(help="JSONL file to check.")],
    method: Annotated[str, typer.Option("--method", help="sft, dpo or distill.")] = "sft",
    max_length: Annotated[int, typer.Option("--max-length", min=16)] = 2048,
) -> None:
    """Print the dataset report (JSON); exit 2 when the file has errors."""
    from app.recipes import RecipeError, check_file

    try:
        report = check_file(file, method, max_length=max_length)
    except RecipeError as exc:
        _fail(exc)
    _json(report.model_dump())
    if not report.ok:
        raise typer.Exit(2)


@dataset_app.command("convert")
def convert_command(
    file: Annotated[Path, typer.Argument(help="JSONL file in the app's layout (see check).")],
    to: Annotated[str, typer.Option("--to", help="llamafactory or axolotl.")],
    method: Annotated[str, typer.Option("--method", help="sft or dpo.")] = "sft",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder; default: a folder named after the tool."),
    ] = None,
) -> None:
    """Write the file in the trainer's layout (JSON summary); exit 2 when a line cannot be."""
    from app.recipes import RecipeError
    from app.recipes.convert import convert_file

    try:
        result = convert_file(file, tool=to, method=method, out_dir=out)
    except RecipeError as exc:
        _fail(exc)
    _json(result.model_dump())
    if not result.ok:
        raise typer.Exit(2)
