"""Migrations: empty to head, nothing left for autogenerate, and back down."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from app.migrate import alembic_config, downgrade, upgrade

TABLES = {"assessments", "answers", "recommendation_snapshots"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _check_cycle(url: str) -> None:
    upgrade(url)
    assert _tables(url) == TABLES
    command.check(alembic_config(url))  # raises when the models and migrations disagree
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == TABLES


def test_sqlite_empty_to_head_check_and_downgrade(tmp_path: Path) -> None:
    _check_cycle(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_empty_to_head_check_and_downgrade(postgres_server_url: str) -> None:
    _check_cycle(postgres_server_url)


def test_sqlite_pragmas_are_on(tmp_path: Path) -> None:
    from app.settings import Settings
    from app.storage import make_engine

    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}"))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()
