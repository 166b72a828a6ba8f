"""CLI for jobs: `advisor demo-assets`, `advisor worker` and `advisor jobs submit|show|logs|cancel`.

The CLI acts as the server's operator (as `advisor assessments key` does): it reaches every
job in DATABASE_URL, and the jobs it submits belong to the local user.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

jobs_app = typer.Typer(help="Training jobs in DATABASE_URL: submit, show, logs, cancel.")

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Recipe parameter KEY=VALUE (repeatable), e.g. --set max_steps=5."),
]
PATH_KEYS = ("dataset", "base_model", "teacher_model")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


def _print_job(job: Any) -> None:
    from app.web.api.jobs import job_out

    typer.echo(json.dumps(job_out(job).model_dump(mode="json"), indent=2))


def demo_assets(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to build them (default DATA_DIR/demo).")
    ] = None,
) -> None:
    """Build the tiny demo model, tokenizer, SFT and preference sets offline; print their paths."""
    from app.jobs.demo import build_demo_assets
    from app.settings import Settings

    root = directory or Path(Settings().data_dir) / "demo"
    try:
        paths = build_demo_assets(root)
    except RuntimeError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(paths))


def worker() -> None:
    """Run the local runner's worker: claim queued jobs one at a time until stopped."""
    import logging

    from app.jobs.local import run_worker
    from app.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_worker(Settings())


@jobs_app.callback()
def _jobs_group() -> None:
    """Training jobs."""


def _absolute_paths(params: dict[str, str]) -> dict[str, str]:
    """Paths typed relative to the current folder, made absolute (the server checks them)."""
    out = dict(params)
    for key in PATH_KEYS:
        value = out.get(key)
        if value and Path(value).exists():
            out[key] = str(Path(value).resolve())
    return out


@jobs_app.command("submit")
def submit(
    recipe: Annotated[str, typer.Argument(help="A training recipe id, e.g. sft-lora.")],
    runner: Annotated[str, typer.Option(help="local, or ray when RAY_ADDRESS is set.")] = "local",
    sets: SetOption = None,
    wait: Annotated[bool, typer.Option(help="Wait until the job ends, then print it.")] = False,
) -> None:
    """Submit a recipe to a runner; prints the job as JSON."""
    from app.recipes import RecipeError, parse_assignments
    from app.services import jobs
    from app.settings import Settings
    from app.storage import make_engine, unit_of_work

    try:
        params = _absolute_paths(parse_assignments(sets or []))
    except RecipeError as exc:
        raise _fail(exc.message) from None
    settings = Settings()
    engine = make_engine(settings)
    try:
        with unit_of_work(engine, write=True) as session:
            job = jobs.operator_submit(
                session=session, settings=settings, recipe_id=recipe, params=params, runner=runner
            )
        while wait and job.status not in ("succeeded", "failed", "cancelled"):
            time.sleep(1.0)
            with unit_of_work(engine, write=False) as session:
                job = jobs.operator_job(session=session, settings=settings, job_id=job.id)
    except jobs.JobInputError as exc:
        raise _fail(f"{exc.field}: {exc.message}") from None
    except jobs.JobFolderError as exc:
        raise _fail(f"{exc.message}; nothing was kept") from None
    finally:
        engine.dispose()
    _print_job(job)


@jobs_app.command("show")
def show(job_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Print one job as JSON."""
    _with_job(job_id, "show")


@jobs_app.command("logs")
def logs(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    tail: Annotated[int | None, typer.Option(min=1, help="Only the last N lines.")] = None,
) -> None:
    """Print the job's log."""
    _with_job(job_id, "logs", tail=tail)


@jobs_app.command("cancel")
def cancel(job_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Cancel the job (a running one ends within 30 s); prints it as JSON."""
    _with_job(job_id, "cancel")


def _with_job(job_id: str, action: str, tail: int | None = None) -> None:
    from app.jobs.runner import RunnerError
    from app.services import jobs
    from app.services.access import JobNotFound
    from app.settings import Settings
    from app.storage import make_engine, unit_of_work

    settings = Settings()
    engine = make_engine(settings)
    try:
        with unit_of_work(engine, write=action == "cancel") as session:
            if action == "cancel":
                job = jobs.operator_cancel(session=session, settings=settings, job_id=job_id)
            else:
                job = jobs.operator_job(session=session, settings=settings, job_id=job_id)
        if action == "logs":
            typer.echo(jobs.log_tail(settings, job, tail), nl=False)
            return
    except JobNotFound as exc:
        raise _fail(str(exc)) from None
    except RunnerError as exc:
        raise _fail(f"runner: {exc}") from None
    finally:
        engine.dispose()
    _print_job(job)
