"""The team dashboard's queries read indexes, whatever the filters: no full scan of a table.

The statements are the ones the service really runs (captured from the engine), explained on
SQLite (its plans take no statistics into account here, so an empty database plans as a full
one) and on PostgreSQL with sequential scans priced out (a plan that still scans has no index
to use).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from app.models import Assessment, Membership, Team, User, utcnow
from app.models.dashboard import SearchDocument
from app.services import dashboard
from app.services.access import Caller
from app.services.accounts import start_session
from app.storage import unit_of_work

# Every filter the page offers, alone and with the others that make sense together, under
# every sort it offers, and a later page.
FILTERS: dict[str, dict[str, Any]] = {
    "none": {},
    "status": {"status": "approved"},
    "primary": {"primary": "rag"},
    "author": {"author": "u1"},
    "date range": {"since": date(2026, 1, 1), "until": date(2026, 6, 30)},
    "since": {"since": date(2026, 1, 1)},
    # Partial months at either end are counted in the index; the whole ones are summed.
    "partial months": {"since": date(2026, 1, 15), "until": date(2026, 6, 10)},
    "within a month": {"since": date(2026, 3, 2), "until": date(2026, 3, 20)},
    "author, partial months": {
        "author": "u1",
        "since": date(2026, 1, 15),
        "until": date(2026, 6, 10),
    },
    "status, partial months": {"status": "approved", "since": date(2026, 2, 15)},
    "search": {"q": "support latency"},
    "status and primary": {"status": "in_review", "primary": "fine_tuning"},
    "author and status": {"author": "u1", "status": "completed"},
    "primary and since": {"primary": "rag", "since": date(2025, 6, 1)},
    "search and status": {"q": "invoice", "status": "in_review"},
    "search and author": {"q": "invoice", "author": "u1"},
}
QUERIES = {
    f"{name}, sort {sort}": dashboard.DashboardQuery(sort=sort, **values)
    for name, values in FILTERS.items()
    for sort in dashboard.SORTS
}
QUERIES["third page by title"] = dashboard.DashboardQuery(sort="title", page=3, per_page=1)
DASHBOARD_TABLES = ("assessments", "search_documents")


@contextmanager
def _captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT the engine runs on the dashboard's tables, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and (
            "assessments" in statement or "search_documents" in statement
        ):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def _statements(url: str) -> tuple[Engine, dict[str, list[tuple[str, Any]]]]:
    """The dashboard's statements for each query, run by a member of a team."""
    engine = create_engine(url)
    with unit_of_work(engine, write=True) as session:
        now = utcnow()
        session.add(Team(id="t1", name="Plans", created_at=now))
        session.add(User(id="u1", email="u1@example.org", password_hash="x", created_at=now))
        session.flush()
        session.add(Membership(team_id="t1", user_id="u1", role="owner", created_at=now))
        # One assessment for every filter to find: with none, the page is not even asked for.
        at = datetime(2026, 3, 1, tzinfo=UTC)
        for n, (status, primary) in enumerate(
            [("approved", "rag"), ("in_review", "fine_tuning"), ("completed", "rag")]
        ):
            session.add(
                Assessment(
                    id=f"a{n}",
                    title="Support latency invoice",
                    status=status,
                    primary_approach=primary,
                    author_id="u1",
                    team_id="t1",
                    ruleset="test",
                    edit_key_hash="x",
                    created_at=at,
                    updated_at=at,
                )
            )
        cookie = start_session(session=session, user_id="u1", user_agent="plans")
    caller = Caller(session_token=cookie)
    found = {}
    for name, query in QUERIES.items():
        with _captured(engine) as seen, unit_of_work(engine, write=False) as session:
            dashboard.team_dashboard(session=session, caller=caller, team_id="t1", query=query)
        found[name] = [s for s in seen if "FROM assessments" in s[0] or "search" in s[0]]
    return engine, found


def test_sqlite_plans_use_the_indexes(sqlite_url: str) -> None:
    engine, found = _statements(sqlite_url)
    for name, statements in found.items():
        assert statements, name  # the page at least (the counts may come from the tally)
        for sql, parameters in statements:
            with engine.connect() as connection:
                steps = list(connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters))
            plan = [row[3] for row in steps]
            for step in plan:
                # A scan of a whole table: "SCAN assessments" with no index, or any scan of
                # the search documents (the FTS5 table is reached through its own index).
                assert not re.fullmatch(r"SCAN (assessments|search_documents)\b.*", step) or (
                    "USING" in step and "INDEX ix_assessments_team_id" in step
                ), (name, step, sql)
            if "search_documents_fts" in sql:
                # The search, one statement: the newest matches from the FTS5 index in its own
                # order (no sort), each one's document by key for its team; then their
                # assessments by key, once (materialised) for the counts and the page.
                (found,) = [row[0] for row in steps if row[3] == "MATERIALIZE found"]
                inside = [row[3] for row in steps if row[1] == found]
                assert inside == [
                    "SCAN search_documents_fts VIRTUAL TABLE INDEX 192:M1",
                    "SEARCH d USING INTEGER PRIMARY KEY (rowid=?)",
                ], plan
                assert "MATERIALIZE matched" in plan, plan
                assert (
                    "SEARCH assessments USING INDEX sqlite_autoindex_assessments_1 (id=?)" in plan
                ), plan
                continue
            reads = [s for s in plan if re.search(r"\bassessments\b", s)]
            # A team's index; a search's assessments by the primary key's index.
            by_key = "sqlite_autoindex_assessments_1"
            assert reads and all("ix_assessments_team_id" in s or by_key in s for s in reads), (
                name,
                plan,
            )
            searched = "assessments.id IN (" in sql
            if searched:
                assert any(by_key in s for s in reads), (name, plan)
            elif "AS page" in sql:
                # The deferred join: the page's ids from a team index alone, then 20 rows.
                assert any(
                    re.match(r"SEARCH assessments USING COVERING INDEX ix_assessments_team_id", s)
                    for s in plan
                ), (name, plan)
            if "count(" in sql and not searched:
                # The counts of a filtered page never leave the index.
                assert all("COVERING INDEX" in s for s in reads), (name, plan)
    engine.dispose()


@pytest.mark.postgres
def test_postgres_plans_use_the_indexes(postgres_url: str) -> None:
    engine, found = _statements(postgres_url)
    for name, statements in found.items():
        for sql, parameters in statements:
            with engine.connect() as connection:
                connection.execute(text("SET enable_seqscan = off"))
                plan = "\n".join(
                    row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}", parameters)
                )
            assert "Seq Scan on assessments" not in plan, (name, plan)
            assert "Seq Scan on search_documents" not in plan, (name, plan)
            if "@@" in sql:
                # The GIN index, or (a small team, as here) the team's documents by its index.
                assert re.search(r"ix_search_documents_(body_tsv|team_id)", plan), (name, plan)
                assert "Index Scan Backward using pk_search_documents" not in plan, (name, plan)
    # The search's own expression is the GIN index's, and the index answers it: not a walk
    # of the primary key testing each document.
    with unit_of_work(engine, write=False) as session:
        statement = select(SearchDocument.id).where(dashboard.postgres_match(["support", "x"]))
        connection = session.connection()
        connection.execute(text("SET LOCAL enable_seqscan = off"))  # a test table is tiny
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(explain(statement)))
    assert "ix_search_documents_body_tsv" in plan, plan
    # A search looks its matches' assessments up by id (at 100,000 assessments, a thousand
    # times): by the hash index of migration 0010, not the primary key's B-tree.
    with unit_of_work(engine, write=False) as session:
        statement = select(Assessment.status).where(Assessment.id == "x")
        connection = session.connection()
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(explain(statement)))
    assert "Index Scan using ix_assessments_id_hash on assessments" in plan, plan
    searches = [sql for statements in found.values() for sql, _ in statements if "@@" in sql]
    assert searches
    engine.dispose()


def explain(statement: Any) -> str:
    """EXPLAIN of a Core statement, its parameters written in as literals."""
    compiled = statement.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return f"EXPLAIN {compiled}"
