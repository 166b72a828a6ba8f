"""The Ray runner through the app: POST /api/jobs with runner `ray` against a real local head.

The head is the session's one (conftest `ray_head`); the app is configured with its address
and token as an operator would set RAY_ADDRESS and RAY_TOKEN.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from app.jobs.local import SPEC_NAME
from app.jobs.ray import SUBMISSION_MARKER, RayRunner
from app.jobs.runner import RunnerState
from app.main import create_app
from app.services.remote_jobs import REFRESH_EVERY_S
from app.settings import PROJECT_ROOT, Settings
from tests.jobs.ray_head import RayHead, free_port
from tests.jobs.support import demo_params, wait_for

LONG = 1_000_000  # max_steps that would run for days


def _client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def ray_settings(settings: Settings, ray_head: RayHead) -> Settings:
    """The test app's settings with RAY_ADDRESS and RAY_TOKEN pointing at the real head."""
    return settings.model_copy(
        update={"ray_address": ray_head.address, "ray_token": ray_head.token}
    )


@pytest.fixture
def ray_client(ray_settings: Settings) -> Iterator[TestClient]:
    """A TestClient on an app that offers the Ray runner."""
    yield from _client(ray_settings)


def _job(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"/api/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _submit(client: TestClient, params: dict[str, Any]) -> dict[str, Any]:
    made = client.post("/api/jobs", json={"recipe": "sft-lora", "runner": "ray", "params": params})
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def _driver_pids(external_id: str) -> set[int]:
    """The processes running in this submission's unpacked working dir (Ray's entrypoint shell
    and the trainer), found by the marker file the runner puts in each package."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            marker = (entry / "cwd" / SUBMISSION_MARKER).read_text().strip()
        except OSError:
            continue
        if marker == external_id and _alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.training
def test_demo_sft_lora_through_the_api_on_ray(
    ray_client: TestClient, ray_settings: Settings, assets: dict[str, str]
) -> None:
    """Submitted with runner ray: a self-contained folder handed to the head, trained to
    `succeeded`, its state, log and loss read back through the app."""
    started = time.monotonic()
    created = _submit(ray_client, demo_params(assets))
    assert created["runner"] == "ray" and created["status"] in ("queued", "running"), created
    assert created["external_id"] and created["external_id"].startswith(f"advisor-{created['id']}")
    # The folder names everything relatively and holds the model: a remote node has nothing else.
    folder = Path(ray_settings.data_dir) / "jobs" / created["id"]
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert config["model_name_or_path"] == "./model"
    data_file = config["datasets"][0]["data_files"]
    assert data_file.startswith("data/") and not Path(config["output_dir"]).is_absolute()
    assert (folder / "model" / "config.json").is_file() and not (folder / "model").is_symlink()
    assert (folder / data_file).is_file()
    env = json.loads((folder / SPEC_NAME).read_text())["env"]
    assert env["HF_HUB_OFFLINE"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1"
    assert env["WANDB_DISABLED"] == "true"
    # The API shows what the user gave, not the folder's relative names.
    assert created["params"]["base_model"] == assets["base_model"]

    job = wait_for(lambda: _job(ray_client, created["id"]))
    elapsed = time.monotonic() - started
    logs = ray_client.get(f"/api/jobs/{created['id']}/logs")
    assert job["status"] == "succeeded", (job, logs.text[-3000:])
    assert job["exit_code"] == 0 and job["error"] is None
    assert job["started_at"] and job["finished_at"]
    assert logs.status_code == 200 and logs.headers["content-type"].startswith("text/plain")
    assert "train_runtime" in logs.text and "'loss'" in logs.text
    tail = ray_client.get(f"/api/jobs/{created['id']}/logs", params={"tail": 3}).text
    assert 0 < len(tail.splitlines()) <= 3 and logs.text.endswith(tail)
    loss = job["metrics"]["loss"]
    assert len(loss) == 3 and [step for step, _ in loss] == [1, 2, 3], loss
    assert all(value > 0 for _, value in loss)
    listed = {j["id"]: j for j in ray_client.get("/api/jobs").json()}
    assert listed[created["id"]]["status"] == "succeeded"
    page = ray_client.get(f"/jobs/{created['id']}")
    assert page.status_code == 200 and "Succeeded" in page.text
    print(f"sft-lora through the API on Ray: {elapsed:.1f}s from POST to succeeded")


@pytest.mark.training
def test_cancel_a_running_ray_job(
    ray_client: TestClient, assets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long job, cancelled through the API: `cancelled` within 30 s, its driver gone."""
    created = _submit(ray_client, demo_params(assets, max_steps=LONG))
    # Training for real: a loss was logged (read through the app's refresh of the Ray job).
    wait_for(lambda: _job(ray_client, created["id"]), lambda j: bool(j["metrics"]["loss"]))
    # Readers share the runner's answer: a burst of reads asks the head about once a second.
    asked: list[str] = []
    real_status = RayRunner.status

    def counted(runner: RayRunner, external_id: str) -> RunnerState:
        asked.append(external_id)
        return real_status(runner, external_id)

    monkeypatch.setattr(RayRunner, "status", counted)
    burst_started = time.monotonic()
    for _ in range(20):
        ray_client.get(f"/api/jobs/{created['id']}")
        ray_client.get(f"/jobs/{created['id']}", headers={"HX-Request": "true"})
    burst_s = time.monotonic() - burst_started
    assert len(asked) <= burst_s / REFRESH_EVERY_S + 1, (len(asked), burst_s)
    monkeypatch.undo()
    pids = _driver_pids(created["external_id"])
    assert pids, "no process runs in the submission's working dir"
    asked = time.monotonic()
    answer = ray_client.post(f"/api/jobs/{created['id']}/cancel")
    assert answer.status_code == 200, answer.text
    assert answer.json()["cancel_requested"] is True
    job = wait_for(lambda: _job(ray_client, created["id"]), timeout_s=30)
    took = time.monotonic() - asked
    assert job["status"] == "cancelled" and took < 30, (job, took)
    assert job["finished_at"] is not None
    deadline = time.monotonic() + 10
    while [p for p in pids if _alive(p)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in pids if _alive(p)], f"driver processes left: {pids}"
    assert ray_client.post(f"/api/jobs/{created['id']}/cancel").json()["status"] == "cancelled"


def test_a_head_that_is_down_fails_the_job_and_the_app_stays_up(
    settings: Settings, assets: dict[str, str]
) -> None:
    """RAY_ADDRESS where nothing listens: 201 with the job `failed`, "runner unreachable: ..."."""
    address = f"http://127.0.0.1:{free_port()}"
    down = settings.model_copy(update={"ray_address": address, "ray_token": "t"})
    for client in _client(down):
        created = _submit(client, demo_params(assets))
        assert created["status"] == "failed", created
        assert created["error"].startswith(f"runner unreachable: {address}: "), created["error"]
        assert created["finished_at"] and created["external_id"] is None
        assert client.get("/healthz").status_code == 200
        assert _job(client, created["id"])["status"] == "failed"
        assert created["id"] in [j["id"] for j in client.get("/api/jobs").json()]
        assert client.get(f"/jobs/{created['id']}").status_code == 200
        # A failed job's folder is the user's to inspect; the next job still gets a fresh one.
        assert client.post("/api/jobs", json={"recipe": "prompt-eval"}).status_code == 422


def test_a_wrong_token_fails_the_job_with_rays_words(
    settings: Settings, ray_head: RayHead, assets: dict[str, str]
) -> None:
    """The head refuses the token: the job is `failed` with Ray's own message, not a 500."""
    wrong = settings.model_copy(update={"ray_address": ray_head.address, "ray_token": "wrong"})
    for client in _client(wrong):
        created = _submit(client, demo_params(assets))
        assert created["status"] == "failed", created
        assert "403" in created["error"] and "Invalid authentication token" in created["error"]


@pytest.mark.training
def test_cli_submits_to_ray_and_cancels(
    sqlite_url: str, jobs_data_dir: Path, ray_head: RayHead, assets: dict[str, str]
) -> None:
    """`advisor jobs submit sft-lora --runner ray --set ...`, then show and cancel by id."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": sqlite_url,
        "DATA_DIR": str(jobs_data_dir),
        "RAY_ADDRESS": ray_head.address,
        "RAY_TOKEN": ray_head.token,
    }

    def advisor(*args: str) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        body: dict[str, Any] = json.loads(done.stdout)
        return body

    sets = [f"base_model={assets['base_model']}", f"dataset={assets['dataset']}", "gpu=cpu"]
    job = advisor(
        "jobs", "submit", "sft-lora", "--runner", "ray", *[a for s in sets for a in ("--set", s)]
    )
    assert job["runner"] == "ray" and job["status"] in ("queued", "running"), job
    assert job["external_id"], job
    assert advisor("jobs", "cancel", job["id"])["cancel_requested"] is True
    shown = wait_for(lambda: advisor("jobs", "show", job["id"]), timeout_s=30)
    assert shown["status"] == "cancelled", shown
