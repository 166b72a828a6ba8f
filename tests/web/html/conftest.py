"""The HTML pages run on SQLite; the API tests cover PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Every page test's database: a fresh, migrated SQLite file."""
    return sqlite_url
