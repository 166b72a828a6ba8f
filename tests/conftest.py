"""Shared fixtures: apps on a fresh SQLite file or a real PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import create_engine, text

from app.main import create_app
from app.migrate import upgrade
from app.services import accounts
from app.settings import Settings
from tests.support import IN_CI, require


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true any skip is a failure, whichever way a test came to skip."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped") if reporter is not None else None
    if IN_CI and exitstatus == 0 and skipped:
        print(f"\nCI=true: {len(skipped)} test(s) skipped; a missing component is a failure")
        session.exitstatus = 1


QUICK_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at its lowest cost: the recommended one takes a core for ~0.3 s per sign-in.

    `tests/web/api/test_accounts.py` undoes this once, to prove the production parameters.
    """
    monkeypatch.setattr(accounts, "_hasher", lambda: QUICK_HASHER)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test copies it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(migrated_sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    path = tmp_path / "advisor.db"
    shutil.copyfile(migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A throw-away database on the PostgreSQL server named by TEST_POSTGRES_URL."""
    admin_url = os.environ.get("TEST_POSTGRES_URL")
    require(bool(admin_url), "TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    assert admin_url is not None
    name = f"advisor_test_{uuid.uuid4().hex[:12]}"
    # pre_ping: a test restarts the server (test_postgres_restart.py); pooled links die.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        require(False, f"cannot reach PostgreSQL at TEST_POSTGRES_URL: {exc}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_server_url: str) -> str:
    """The throw-away PostgreSQL database, migrated to head once."""
    upgrade(postgres_server_url)
    return postgres_server_url


@pytest.fixture
def postgres_url(migrated_postgres_url: str) -> Iterator[str]:
    """The migrated PostgreSQL database, emptied after each test."""
    yield migrated_postgres_url
    engine = create_engine(migrated_postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE jobs, recommendation_snapshots, answers, assessments, users, teams,"
                " sign_in_failures CASCADE"
            )
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each API test runs on SQLite and on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test app: its own database and data dir."""
    return Settings(database_url=database_url, data_dir=tmp_path / "data", secret_key="test-secret")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient on a fresh app instance."""
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()
