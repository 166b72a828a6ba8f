"""Migrations: empty to head, nothing left for autogenerate, back down, and data carried over."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text

from app.main import create_app
from app.migrate import alembic_config, downgrade, upgrade
from app.services import assessments
from app.settings import Settings
from app.storage import make_engine, unit_of_work
from tests.web.conftest import bearer

TABLES = {
    "assessments",
    "answers",
    "recommendation_snapshots",
    "share_links",
    "users",
    "sessions",
    "api_tokens",
    "sign_in_failures",
    "jobs",
    "teams",
    "team_members",
    "team_invites",
    "review_participants",
    "review_decisions",
    "review_comments",
    "review_comment_changes",
    "milestones",
    "audit_events",
    "search_documents",
    "team_assessment_counts",
    "team_webhooks",
    "webhook_deliveries",
    "webhook_attempts",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        # SQLite's full-text index of the dashboard (0006): a virtual table and its shadows.
        return {name for name in names if not name.startswith("search_documents_fts")}
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


def _keys_for_existing_rows(url: str, tmp_path: Path) -> None:
    """Rows written by the schema before edit keys get a key nobody knows; rotating one works."""
    upgrade(url, "0001")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = create_engine(url)
    with engine.begin() as connection:
        for name in ("old-one", "old-two"):
            connection.execute(
                text(
                    "INSERT INTO assessments (id, created_at, updated_at, ruleset, status, title)"
                    " VALUES (:id, :at, :at, '2026.11.1', 'in_progress', :title)"
                ),
                {"id": name, "at": at, "title": f"Title of {name}"},
            )
            connection.execute(
                text(
                    "INSERT INTO answers (assessment_id, question_id, value, is_current,"
                    " created_at) VALUES (:id, 'gap', '\"knowledge\"', :current, :at)"
                ),
                {"id": name, "at": at, "current": True},
            )
    upgrade(url)
    with engine.connect() as connection:
        hashes = connection.execute(text("SELECT edit_key_hash FROM assessments")).scalars().all()
    engine.dispose()
    assert len(hashes) == 2 and len(set(hashes)) == 2
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)

    settings = Settings(database_url=url, data_dir=tmp_path / "data", secret_key="test-secret")
    app = create_app(settings)
    with TestClient(app) as client:
        # Kept, but reachable by no one until its owner makes a new key.
        assert client.get("/api/assessments/old-one").status_code == 404
        operator = make_engine(settings)  # what `advisor assessments key ID` does
        with unit_of_work(operator, write=True) as session:
            key = assessments.rotate_edit_key(session=session, assessment_id="old-one")
        operator.dispose()
        kept = client.get("/api/assessments/old-one", headers=bearer(key))
        assert kept.status_code == 200
        assert kept.json()["title"] == "Title of old-one"
        assert kept.json()["answers"] == {"gap": "knowledge"}
        assert client.get("/api/assessments/old-two", headers=bearer(key)).status_code == 404
    app.state.engine.dispose()


def test_sqlite_existing_assessments_get_keys(tmp_path: Path) -> None:
    _keys_for_existing_rows(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)


@pytest.mark.postgres
def test_postgres_existing_assessments_get_keys(postgres_server_url: str, tmp_path: Path) -> None:
    downgrade(postgres_server_url, "base")
    try:
        _keys_for_existing_rows(postgres_server_url, tmp_path)
    finally:
        # The database is shared with the other PostgreSQL tests: leave it empty, at head.
        downgrade(postgres_server_url, "base")
        upgrade(postgres_server_url)


def _review_statuses_round_trip(url: str) -> None:
    """0005 takes the review statuses (17 characters among them); going back makes them
    `completed`, which the older CHECK allows."""
    upgrade(url)
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO assessments (id, created_at, updated_at, ruleset, status, title,"
                " edit_key_hash) VALUES ('asked', :at, :at, '2026.11.1', 'changes_requested',"
                " NULL, :hash)"
            ),
            {"at": at, "hash": "0" * 64},
        )
        allowed = connection.execute(
            text("SELECT allow_self_approval FROM teams WHERE 1 = 0")
        ).all()
    assert allowed == []
    with pytest.raises(Exception, match=r"(?i)check"), engine.begin() as connection:
        connection.execute(text("UPDATE assessments SET status = 'maybe' WHERE id = 'asked'"))
    downgrade(url, "0004")
    with engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM assessments")).scalar_one()
    engine.dispose()
    assert status == "completed"


def test_sqlite_review_statuses_round_trip(tmp_path: Path) -> None:
    _review_statuses_round_trip(f"sqlite:///{tmp_path / 'r.db'}")


@pytest.mark.postgres
def test_postgres_review_statuses_round_trip(postgres_server_url: str) -> None:
    downgrade(postgres_server_url, "base")
    try:
        _review_statuses_round_trip(postgres_server_url)
    finally:
        downgrade(postgres_server_url, "base")
        upgrade(postgres_server_url)


def test_sqlite_pragmas_are_on(tmp_path: Path) -> None:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}"))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def _claimed_authors_backfilled(url: str) -> None:
    """0007 gives claimed assessments without an author the one their history names: the
    owning user, else the first to ask for review, else the first to answer; else none."""
    from app.models import Answer, Assessment, AuditEvent, Team, User

    upgrade(url, "0006")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = make_engine(Settings(database_url=url))
    with unit_of_work(engine, write=True) as session:
        for name in ("ann", "bea", "cy"):
            session.add(
                User(id=name, email=f"{name}@example.org", password_hash="x", created_at=at)
            )
        session.add(Team(id="t", name="T", created_at=at))
        session.flush()
        rows = {"owned": ("ann", None), "asked": (None, "t"), "answered": (None, "t"),
                "silent": (None, "t"), "anonymous": (None, None)}  # fmt: skip
        for assessment_id, (owner, team) in rows.items():
            session.add(
                Assessment(
                    id=assessment_id, created_at=at, updated_at=at, ruleset="r",
                    status="completed", title=None, edit_key_hash="x",
                    owner_user_id=owner, team_id=team,
                )
            )  # fmt: skip
        session.flush()
        session.add(
            AuditEvent(
                assessment_id="asked", team_id="t", actor_id="bea", actor="bea@example.org",
                action="review_requested", detail={}, at=at,
            )
        )  # fmt: skip
        session.add(
            Answer(
                assessment_id="answered", question_id="gap", value="knowledge",
                is_current=True, created_at=at, author_id="cy",
            )
        )  # fmt: skip
    upgrade(url)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT id, author_id FROM assessments")).all()
        authors: dict[str, str | None] = {row[0]: row[1] for row in found}
    engine.dispose()
    assert authors == {
        "owned": "ann", "asked": "bea", "answered": "cy", "silent": None, "anonymous": None,
    }  # fmt: skip


def test_sqlite_claimed_authors_backfilled(tmp_path: Path) -> None:
    _claimed_authors_backfilled(f"sqlite:///{tmp_path / 'claimed.db'}")


@pytest.mark.postgres
def test_postgres_claimed_authors_backfilled(postgres_server_url: str) -> None:
    downgrade(postgres_server_url, "base")
    try:
        _claimed_authors_backfilled(postgres_server_url)
    finally:
        downgrade(postgres_server_url, "base")
        upgrade(postgres_server_url)


def _documents_take_their_team(url: str) -> None:
    """0009 gives the documents written before it their assessment's team, leaves SQLite's
    full-text index as it was (the backfill rewrites no entry), and goes back down."""
    upgrade(url, "0008")
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO teams (id, name, created_at) VALUES ('t', 'T', :at)"), {"at": at}
        )
        for assessment_id, team in (("ours", "t"), ("mine", None)):
            connection.execute(
                text(
                    "INSERT INTO assessments (id, created_at, updated_at, ruleset, status, title,"
                    " edit_key_hash, team_id) VALUES (:id, :at, :at, 'r', 'in_progress',"
                    " 'Gamma rollout', :hash, :team)"
                ),
                {"id": assessment_id, "at": at, "hash": "0" * 64, "team": team},
            )
    fts = "search_documents_fts"
    # FTS5 writes a new segment (rows in its `_data` table) for every change to its entries.
    segments = text(f"SELECT count(*) FROM {fts}_data")
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        with engine.connect() as connection:
            before = connection.execute(segments).scalar_one()
    upgrade(url)
    with engine.connect() as connection:
        teams = dict(
            connection.execute(text("SELECT assessment_id, team_id FROM search_documents")).all()
        )
        if sqlite:
            assert connection.execute(segments).scalar_one() == before  # no entry rewritten
            match = f"SELECT count(*) FROM {fts} WHERE {fts} MATCH 'gamma'"
            assert connection.execute(text(match)).scalar_one() == 2
            # Raises when the index and its content table disagree.
            connection.execute(text(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')"))
    assert teams == {"ours": "t", "mine": None}
    downgrade(url, "0008")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM search_documents")).scalar_one() == 2
    engine.dispose()


def test_sqlite_documents_take_their_team(tmp_path: Path) -> None:
    _documents_take_their_team(f"sqlite:///{tmp_path / 'teams.db'}")


@pytest.mark.postgres
def test_postgres_documents_take_their_team(postgres_server_url: str) -> None:
    downgrade(postgres_server_url, "base")
    try:
        _documents_take_their_team(postgres_server_url)
    finally:
        downgrade(postgres_server_url, "base")
        upgrade(postgres_server_url)
