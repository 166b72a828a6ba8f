"""Jobs through the JSON API on the local runner: the demo recipes train to `succeeded`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.jobs.support import demo_params, wait_for


def _job(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"/api/jobs/{job_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.training
@pytest.mark.parametrize(("recipe", "preference"), [("sft-lora", False), ("dpo-lora", True)])
def test_demo_recipe_trains_to_succeeded(
    client: TestClient, worker: object, assets: dict[str, str], recipe: str, preference: bool
) -> None:
    """Submitted, claimed, trained: an adapter on disk, a loss curve, the log readable."""
    made = client.post(
        "/api/jobs",
        json={
            "recipe": recipe,
            "runner": "local",
            "params": demo_params(assets, preference=preference),
        },
    )
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["status"] in ("queued", "running")
    assert created["runner"] == "local" and created["recipe"] == recipe
    assert created["params"]["dataset"] == assets["preference_dataset" if preference else "dataset"]
    job = wait_for(lambda: _job(client, created["id"]))
    logs = client.get(f"/api/jobs/{created['id']}/logs", params={"tail": 50})
    assert job["status"] == "succeeded", (job, logs.text)
    assert job["exit_code"] == 0 and job["error"] is None
    assert job["started_at"] and job["finished_at"]
    adapter = f"outputs/{recipe}/adapter_model.safetensors"
    assert adapter in job["artifacts"], job["artifacts"]
    assert job["artifact_bytes"][adapter] > 0
    loss = job["metrics"]["loss"]
    assert len(loss) >= 3 and [step for step, _ in loss][:3] == [1, 2, 3], loss
    assert all(isinstance(value, float) and value > 0 for _, value in loss)
    assert logs.status_code == 200 and logs.headers["content-type"].startswith("text/plain")
    assert len(logs.text.splitlines()) <= 50 and "Training completed" in logs.text
    listed = client.get("/api/jobs").json()
    assert [j["id"] for j in listed] == [created["id"]]
