"""A running job cancelled, and a worker killed mid-job: nothing left running, never stuck."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.models import Job
from app.settings import Settings
from tests.jobs.support import (
    demo_params,
    process_exists,
    start_worker,
    stop_worker,
    wait_for,
)

pytestmark = pytest.mark.training
LONG = 1_000_000  # max_steps that would run for days


def _job(client: TestClient, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
    return body


def _trainer_pid(client: TestClient, job_id: str) -> int | None:
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        return connection.execute(select(Job.pid).where(Job.id == job_id)).scalar_one()


def _training(client: TestClient, job_id: str) -> int:
    """Wait until the trainer really trains (a loss logged); its pid."""
    wait_for(lambda: _job(client, job_id), lambda j: bool(j["metrics"]["loss"]))
    pid = _trainer_pid(client, job_id)
    assert pid is not None and process_exists(pid)
    return pid


def _live_in_group(pgid: int) -> list[int]:
    """Processes of a process group that are alive (not zombies waiting to be reaped)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _group_gone(pgid: int, within_s: float = 5.0) -> bool:
    """Whether every process of the group is gone (reaping may lag a moment)."""
    deadline = time.monotonic() + within_s
    while _live_in_group(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_cancel_a_running_job(client: TestClient, worker: object, assets: dict) -> None:
    made = client.post(
        "/api/jobs", json={"recipe": "sft-lora", "params": demo_params(assets, max_steps=LONG)}
    )
    job_id = made.json()["id"]
    pid = _training(client, job_id)
    asked = time.monotonic()
    answer = client.post(f"/api/jobs/{job_id}/cancel")
    assert answer.status_code == 200 and answer.json()["cancel_requested"] is True
    job = wait_for(lambda: _job(client, job_id), timeout_s=30)
    took = time.monotonic() - asked
    assert job["status"] == "cancelled" and took < 30, (job, took)
    assert job["finished_at"] is not None
    assert not process_exists(pid) and _group_gone(pid), "the trainer outlived its cancel"
    # Cancelling again changes nothing; a queued job is cancelled at once.
    assert client.post(f"/api/jobs/{job_id}/cancel").json()["status"] == "cancelled"


def test_a_queued_job_is_cancelled_at_once(client: TestClient, assets: dict) -> None:
    made = client.post("/api/jobs", json={"recipe": "sft-lora", "params": demo_params(assets)})
    answer = client.post(f"/api/jobs/{made.json()['id']}/cancel")
    assert answer.json()["status"] == "cancelled"


def test_killed_worker_means_worker_lost_then_resubmit(
    client: TestClient, settings: Settings, assets: dict
) -> None:
    data_dir = Path(settings.data_dir)
    first = start_worker(settings.database_url, data_dir)
    second = None
    try:
        params = demo_params(assets, max_steps=LONG)
        job_id = client.post("/api/jobs", json={"recipe": "sft-lora", "params": params}).json()[
            "id"
        ]
        pid = _training(client, job_id)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert _job(client, job_id)["status"] == "running"  # nobody has noticed yet
        second = start_worker(settings.database_url, data_dir)
        job = wait_for(lambda: _job(client, job_id), timeout_s=60)
        assert job["status"] == "failed" and job["error"] == "worker lost", job
        deadline = time.monotonic() + 10
        while process_exists(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process_exists(pid) and _group_gone(pid), "the lost job's trainer still runs"
        # The same recipe and data again (a few steps this time) runs on the new worker.
        again = client.post(
            "/api/jobs", json={"recipe": "sft-lora", "params": demo_params(assets)}
        ).json()
        done = wait_for(lambda: _job(client, again["id"]))
        assert done["status"] == "succeeded", done
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)
