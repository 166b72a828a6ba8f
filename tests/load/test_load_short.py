"""The load test's short form (issue 14): 8 Locust users for 10 s, then the zero-loss check.

`make bench` runs the long form (64 users, 60 s); both share bench/load_bench.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.load_bench import LoadResult, run_postgres, run_sqlite
from tests.support import require

# Serial: it measures a server under load; the parallel pass would starve it.
pytestmark = pytest.mark.serial

USERS, SECONDS = 8, 10
# Locust is run as its own process: importing it here would let gevent patch this one.
LOCUST = Path(sys.executable).with_name("locust")


def _assert_sound(result: LoadResult) -> None:
    report = result.report()
    assert result.requests > 50, report
    assert result.failures == 0, report
    assert result.acknowledged > 0 and result.assessments > 0, report
    assert not result.problems, report
    routes = {row["Name"] for row in result.rows}
    assert {"POST step", "GET result", "GET share link", "GET recipe"} <= routes, report


@pytest.mark.timeout(300)
def test_two_workers_on_sqlite_hold_the_load_and_lose_nothing(tmp_path: Path) -> None:
    require(LOCUST.exists(), "locust is not installed (pip install -e '.[test]')")
    _assert_sound(run_sqlite(USERS, SECONDS, tmp_path))


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_two_instances_on_postgres_share_sessions_and_lose_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    """Requests alternate between two app instances: a session, edit key and CSRF token made
    on one work on the other."""
    require(LOCUST.exists(), "locust is not installed (pip install -e '.[test]')")
    _assert_sound(run_postgres(postgres_url, USERS, SECONDS, tmp_path))
