"""`advisor demo-data`: seed a team with realistic assessments (the dashboard's bench uses it)."""

from __future__ import annotations

from typing import Annotated

import typer


def demo_data(
    team: Annotated[str, typer.Option("--team", help="The team's id (it must have members).")],
    assessments: Annotated[
        int, typer.Option("--assessments", min=1, max=10_000_000, help="How many to add.")
    ] = 1_000,
    seed: Annotated[int, typer.Option(help="Seed of the random generator.")] = 13,
) -> None:
    """Add N realistic assessments to a team in DATABASE_URL: answers decided by the engine,
    titles, statuses, authors, reviewers, decisions and comments."""
    from app.services.demo_data import DemoDataError
    from app.services.demo_data import seed as seed_team
    from app.settings import Settings
    from app.storage import make_engine

    engine = make_engine(Settings())
    try:
        seconds = seed_team(engine, team_id=team, assessments=assessments, seed=seed)
    except DemoDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    finally:
        engine.dispose()
    typer.echo(f"added {assessments:,} assessments to team {team} in {seconds:.1f} s")
