"""A data folder that is full or read-only: a job is refused with a clear 507, and nothing of
it (row or folder) is kept; once there is room again, jobs are accepted."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.jobs.local import jobs_root
from app.main import create_app
from app.models import Job
from app.settings import Settings
from tests.support import require


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB tmpfs as the data folder (needs root, as CI runs)."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    require(done.returncode == 0, f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    """Write until the filesystem says it is full."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _state(client: TestClient, settings: Settings) -> tuple[int, set[str]]:
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        rows = int(connection.execute(select(func.count()).select_from(Job)).scalar_one())
    root = jobs_root(settings)
    return rows, {p.name for p in root.iterdir()} if root.exists() else set()


def test_a_full_or_read_only_data_folder_is_a_507_that_keeps_nothing(
    small_disk: Path, sqlite_url: str
) -> None:
    dataset = small_disk / "train.jsonl"
    dataset.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    settings = Settings(
        database_url=sqlite_url, data_dir=small_disk, secret_key="t", local_worker=False
    )
    body = {
        "recipe": "sft-lora",
        "runner": "local",
        "params": {"base_model": "Qwen/Qwen2.5-0.5B", "dataset": str(dataset), "gpu": "cpu"},
    }
    with TestClient(create_app(settings)) as client:
        filler = _fill(small_disk)
        before = _state(client, settings)
        full = client.post("/api/jobs", json=body)
        assert full.status_code == 507, full.text
        item = full.json()["detail"][0]
        assert item["field"] == "data_dir" and "No space left" in item["message"]
        assert _state(client, settings) == before

        filler.unlink()
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        read_only = client.post("/api/jobs", json=body)
        assert read_only.status_code == 507, read_only.text
        assert "Read-only" in read_only.json()["detail"][0]["message"]
        assert _state(client, settings) == before

        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
        accepted = client.post("/api/jobs", json=body)
        assert accepted.status_code == 201, accepted.text
        rows, folders = _state(client, settings)
        assert rows == before[0] + 1 and accepted.json()["id"] in folders
