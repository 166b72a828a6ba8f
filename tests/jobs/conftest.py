"""Fixtures of the job tests: a data dir holding the demo assets, a running worker, and one
real Ray head shared by every module that needs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.jobs.ray_head import RayHead, running_head
from tests.jobs.support import demo_assets, start_worker, stop_worker


@pytest.fixture(scope="session")
def jobs_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data dir for the session: the demo assets are built once."""
    return tmp_path_factory.mktemp("jobs-data")


@pytest.fixture(scope="session")
def assets(jobs_data_dir: Path) -> dict[str, str]:
    """The demo model, SFT set and preference set (built offline, once)."""
    return demo_assets(jobs_data_dir)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Jobs run on SQLite here; the claim has its own PostgreSQL test."""
    return sqlite_url


@pytest.fixture
def settings(database_url: str, jobs_data_dir: Path) -> Settings:
    """A test app's settings, on the shared data dir."""
    return Settings(database_url=database_url, data_dir=jobs_data_dir, secret_key="test-secret")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient on a fresh app instance."""
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def worker(settings: Settings) -> Iterator[object]:
    """A real `advisor worker` process on the test's database."""
    process = start_worker(settings.database_url, Path(settings.data_dir))
    yield process
    stop_worker(process)


@pytest.fixture(scope="session")
def ray_head() -> Iterator[RayHead]:
    """One real local Ray head for the whole run (token auth), stopped by pid at the end."""
    yield from running_head()
