"""`advisor demo-data` as a user runs it (a real process), on SQLite and PostgreSQL: the team's
dashboard then lists varied, decided, searchable assessments."""

from __future__ import annotations

import os
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import Answer, RecommendationSnapshot, ReviewComment
from tests.web.api.test_teams import invite, join, team_of, user


def _demo_data(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "demo-data", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=300,
    )


def test_demo_data_seeds_a_team(client: TestClient, database_url: str) -> None:
    ann_id, ann = user(client, "ann@example.org")
    bea_id, bea = user(client, "bea@example.org")
    team_id = team_of(client, ann)
    join(client, bea, invite(client, ann, team_id, "reviewer"))

    done = _demo_data(database_url, "--team", team_id, "--assessments", "600")
    assert done.returncode == 0, done.stderr
    assert f"added 600 assessments to team {team_id}" in done.stdout

    listed = client.get(f"/api/teams/{team_id}/assessments?per_page=100", headers=ann).json()
    assert listed["total"] == 600 and len(listed["items"]) == 100
    statuses = {item["status"] for item in listed["items"]}
    assert {"in_progress", "approved", "in_review"} <= statuses
    assert {item["author"] for item in listed["items"]} == {"ann@example.org", "bea@example.org"}
    counts = listed["counts_by_primary"]
    assert sum(1 for count in counts.values() if count) >= 3  # the engine decided them variously
    assert len({item["title"] for item in listed["items"]}) > 50
    # The team's running counts (unfiltered) agree with rows counted (filtered by author).
    by_author = [
        client.get(f"/api/teams/{team_id}/assessments?author={a}", headers=ann).json()
        for a in (ann_id, bea_id)
    ]
    assert sum(b["total"] for b in by_author) == 600
    assert {k: sum(b["counts_by_primary"][k] for b in by_author) for k in counts} == counts
    assert client.get(f"/api/teams/{team_id}/assessments?q=latency", headers=ann).json()["total"]

    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        answers = connection.scalar(select(func.count()).select_from(Answer))
        snapshots = connection.scalar(select(func.count()).select_from(RecommendationSnapshot))
        comments = connection.scalar(select(func.count()).select_from(ReviewComment))
    assert answers and answers > 600 * 3 and snapshots and comments
    # Every decided one has its snapshot, and its stored primary is the snapshot's.
    decided = sum(counts.values())
    assert snapshots == decided

    item = listed["items"][0]
    record = client.get(f"/api/assessments/{item['id']}/export.json", headers=ann)
    assert record.status_code == 200 and record.json()["id"] == item["id"]

    unknown = _demo_data(database_url, "--team", "no-such-team", "--assessments", "5")
    assert unknown.returncode == 2 and "no team has id 'no-such-team'" in unknown.stderr
    assert ann_id
