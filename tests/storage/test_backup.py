"""`advisor db backup`: a consistent, checked copy of a live SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from app.storage.backup import BackupError, backup_sqlite
from tests.web.conftest import bearer


def _client(database_url: str, tmp_path: Path) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, data_dir=tmp_path / "data")))


def test_backup_while_writing_is_consistent_and_serves_what_was_saved(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Writers go on during the backup; the copy passes its integrity check, holds every
    assessment saved before it began, and a server started on it serves them."""
    with _client(sqlite_url, tmp_path) as client:
        saved = [
            client.post("/api/assessments", json={"title": f"before {i}"}).json() for i in range(20)
        ]
        stop = threading.Event()
        written: list[str] = []

        def keep_writing() -> None:
            while not stop.is_set():
                created = client.post("/api/assessments", json={"title": "during"})
                assert created.status_code == 201
                written.append(created.json()["id"])

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            while len(written) < 5:
                stop.wait(0.01)
            report = backup_sqlite(sqlite_url, tmp_path / "copy.db")
            during = len(written)
        finally:
            stop.set()
            writer.join()
    assert report.integrity == "ok" and report.bytes > 0
    # The copy is the database at one commit: everything from before, some of what came during.
    assert 20 + 5 <= report.assessments <= 20 + during + 1
    with _client(f"sqlite:///{tmp_path / 'copy.db'}", tmp_path) as restored:
        for assessment in saved:
            got = restored.get(
                f"/api/assessments/{assessment['id']}", headers=bearer(assessment["edit_key"])
            )
            assert got.status_code == 200 and got.json()["title"] == assessment["title"]
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_backup_refuses_what_it_cannot_do_and_writes_nothing(
    sqlite_url: str, tmp_path: Path
) -> None:
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")
    cases = [
        ("postgresql+psycopg://u:secret@db/advisor", tmp_path / "a.db", "pg_dump"),
        (f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "b.db", "no database file"),
        (sqlite_url, existing, "exists"),
        (sqlite_url, tmp_path / "nowhere" / "c.db", "no folder"),
    ]
    for url, target, needle in cases:
        with pytest.raises(BackupError, match=needle) as err:
            backup_sqlite(url, target)
        assert "secret" not in str(err.value)
    assert existing.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [Path(sqlite_url.removeprefix("sqlite:///")).name, "taken.db"]
    )


def test_cli_backup_prints_its_report(sqlite_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": sqlite_url}
    run = [sys.executable, "-m", "app.cli", "db", "backup"]
    done = subprocess.run(
        [*run, str(tmp_path / "copy.db")], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["integrity"] == "ok" and report["file"] == str(tmp_path / "copy.db")
    again = subprocess.run(
        [*run, str(tmp_path / "copy.db")], capture_output=True, text=True, env=env, timeout=120
    )
    assert again.returncode == 2 and "exists" in again.stderr
