"""The hot statements find their rows through indexes, however many revisions pile up."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from app.storage import hot
from app.storage.statement import Statement


def _plan(database: Path, statement: Statement) -> list[str]:
    """SQLite's query plan for a statement, one line a step."""
    compiled = statement._core.compile(dialect=sqlite.dialect())
    parameters = ["x"] * len(compiled.positiontup or [])  # type: ignore[attr-defined]
    with sqlite3.connect(database) as connection:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {compiled}", parameters).fetchall()
    return [row[3] for row in rows]


@pytest.mark.parametrize("name", ["RECORD", "CURRENT_ANSWERS", "RETIRE", "STATUS"])
def test_no_hot_statement_scans_a_table(name: str, migrated_sqlite_template: Path) -> None:
    plan = _plan(migrated_sqlite_template, getattr(hot, name))
    assert plan and not any(step.startswith("SCAN") for step in plan), plan


def test_answers_are_read_through_the_current_answers_index(
    migrated_sqlite_template: Path,
) -> None:
    """Old revisions stay out of every read on the step page: only current rows are indexed."""
    for name in ("RECORD", "CURRENT_ANSWERS"):
        plan = _plan(migrated_sqlite_template, getattr(hot, name))
        answer_steps = [s for s in plan if "answers" in s or "revision" in s]
        assert answer_steps and all(
            "uq_answers_current" in s or "PRIMARY KEY" in s for s in answer_steps
        ), plan
