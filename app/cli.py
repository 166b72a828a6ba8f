"""The `advisor` command: serve, migrate, decide (and recipes when installed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from app.demo_data_cli import demo_data
from app.jobs_cli import demo_assets, jobs_app, worker
from app.recipes_cli import dataset_app, recipe_app

if TYPE_CHECKING:
    from app.settings import Settings

cli = typer.Typer(
    help="Adaptation Advisor: which fix closes your LLM's gap.",
    no_args_is_help=True,
    add_completion=False,
)
db_cli = typer.Typer(help="Database schema (Alembic).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
assessments_cli = typer.Typer(help="Assessments in DATABASE_URL.", no_args_is_help=True)
cli.add_typer(assessments_cli, name="assessments")


def _fail(message: str) -> typer.Exit:
    """Print a clear error on stderr; the caller raises the returned exit (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    local_worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run the local job runner's worker beside the server (default: LOCAL_WORKER).",
        ),
    ] = None,
) -> None:
    """Serve the web app and the JSON API, with one local job worker unless told not to."""
    import uvicorn

    from app.settings import Settings

    settings = Settings()
    if settings.uses_default_secret() and not _is_loopback(host):
        raise _fail(
            f"refusing to serve on {host} with the development SECRET_KEY: anyone could forge"
            " cookies and form tokens. Set SECRET_KEY to a long random value, e.g."
            " `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    # One worker process beside the server, whatever --workers says: the claim is atomic, but
    # a training job owns the machine, so one runs at a time.
    embedded = (
        _start_worker()
        if (settings.local_worker if local_worker is None else local_worker)
        else None
    )
    try:
        _serve(uvicorn, host, port, workers, reload, settings)
    finally:
        if embedded is not None:
            _stop_worker(embedded)


def _start_worker() -> subprocess.Popen[bytes]:
    """`advisor worker` as a child process (its own interpreter: training never shares the
    server's GIL, and a crash of one leaves the other up)."""
    from app.jobs.local import PARENT_ENV

    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env)


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the worker (it ends a running job's process group), then make sure."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve(
    uvicorn: Any, host: str, port: int, workers: int, reload: bool, settings: Settings
) -> None:
    """Run uvicorn until it exits."""
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        # The standard loop serves connections in turn when saturated; uvloop is ~10% faster
        # but lets some wait: p99 170 ms against 35 ms at 32 clients (`make bench`).
        loop="asyncio",
        # On SIGTERM, requests in flight get this long; then the server exits regardless.
        timeout_graceful_shutdown=int(settings.graceful_shutdown_s + 0.5),
        # uvicorn closes an idle connection after 5 s by default; a client (or proxy) sending on
        # it at that moment gets no answer ("Remote end closed connection"): 3 of 9,000
        # requests under `make bench`'s load on two instances. Idle clients are cheap to keep.
        timeout_keep_alive=settings.keep_alive_s,
    )


def _is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@db_cli.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations to DATABASE_URL (default: the SQLite file ./advisor.db)."""
    from app.migrate import upgrade
    from app.settings import Settings

    upgrade(Settings().database_url, revision)
    typer.echo(f"database at {revision}", err=True)


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
) -> None:
    """Take the schema back to an earlier revision."""
    from app.migrate import downgrade
    from app.settings import Settings

    downgrade(Settings().database_url, revision)
    typer.echo(f"database at {revision}", err=True)


@db_cli.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the copy.")],
) -> None:
    """Copy the live SQLite database to FILE, consistent and checked; prints a JSON report."""
    import dataclasses
    import json

    from app.settings import Settings
    from app.storage.backup import BackupError, backup_sqlite

    try:
        report = backup_sqlite(Settings().database_url, file)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(dataclasses.asdict(report)))


@assessments_cli.command("key")
def assessments_key(
    assessment_id: Annotated[str, typer.Argument(metavar="ID", help="The assessment's id.")],
    base_url: Annotated[
        str, typer.Option(help="The server's address, to print a full link.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Make a new edit key for one assessment and print its private link.

    The assessment's old key stops working: browsers and scripts holding it lose access
    until they open the new link. Anyone with the link can change the assessment: hand it
    only to its owner.
    """
    from app.services.assessments import AssessmentNotFound, rotate_edit_key
    from app.settings import Settings
    from app.storage import make_engine, unit_of_work
    from app.web.presenters import urls

    engine = make_engine(Settings())
    try:
        with unit_of_work(engine, write=True) as session:
            edit_key = rotate_edit_key(session=session, assessment_id=assessment_id)
    except AssessmentNotFound as exc:
        raise _fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(urls.absolute(base_url, urls.private_link(assessment_id, edit_key)))
    typer.echo("The old key no longer works. This link is private: it lets anyone edit.", err=True)


@cli.command()
def recommend(
    profile: Annotated[
        Path | None, typer.Option("--profile", help="A profile as JSON ('-' for stdin).")
    ] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="Profiles as JSONL, one a line ('-' for stdin).")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Processes deciding a batch file (default: one per CPU; stdin uses one).",
        ),
    ] = None,
) -> None:
    """Print the recommendation for one profile, or one per line for a batch, in order."""
    from app.decision.batch import (
        default_jobs,
        recommend_batch_json,
        recommend_file_json,
        recommend_json,
    )
    from app.decision.errors import ProfileError

    if (profile is None) == (batch is None):
        raise _fail("give exactly one of --profile FILE or --batch FILE")
    source = profile if profile is not None else batch
    assert source is not None
    try:
        if batch is not None and str(batch) != "-":
            write = sys.stdout.write
            for block in recommend_file_json(batch, jobs=jobs or default_jobs()):
                write(block)
            return
        with _open_input(source) as stream:
            if profile is not None:
                sys.stdout.write(recommend_json(stream.read()) + "\n")
            else:
                write = sys.stdout.write
                for line in recommend_batch_json(stream):
                    write(line + "\n")
    except ProfileError as exc:
        raise _fail(exc.message) from None
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc.strerror or exc}") from None


def _open_input(path: Path) -> TextIO:
    """Open a file for reading, or wrap stdin for '-'."""
    if str(path) == "-":
        return open(sys.stdin.fileno(), encoding="utf-8", closefd=False)
    return path.open(encoding="utf-8")


cli.add_typer(recipe_app, name="recipe")
cli.add_typer(dataset_app, name="dataset")
cli.add_typer(jobs_app, name="jobs")
cli.command("demo-assets")(demo_assets)
cli.command("worker")(worker)
cli.command("demo-data")(demo_data)


def main() -> None:
    """Console-script entry point."""
    cli()


__all__ = ["cli", "main"]


if __name__ == "__main__":
    main()
