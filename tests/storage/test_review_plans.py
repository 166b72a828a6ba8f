"""The review's per-page query, the header's count of reviews waiting, uses indexes only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.dialects import sqlite

from app.models import utcnow
from app.services.notifications import waiting_count_query


def test_the_waiting_count_scans_no_table(migrated_sqlite_template: Path) -> None:
    compiled = waiting_count_query("0" * 64, utcnow()).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    with sqlite3.connect(migrated_sqlite_template) as connection:
        plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {compiled}")]
    assert plan and not any(step.startswith("SCAN") for step in plan), plan
    assert any(step.startswith("SEARCH sessions") and "(token_hash=?)" in step for step in plan), (
        plan
    )
    assert any("ix_review_participants_user_id" in step for step in plan), plan
