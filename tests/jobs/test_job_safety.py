"""What a job may not do: playbooks, unknown runners, bad values, paths out of the data dir.

Each refusal is a 422 naming the field, and leaves no row and no job folder behind. And who
may see a job: the contract's "who may", outsiders 404.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.jobs.local import jobs_root
from app.models import Job
from app.settings import Settings
from tests.web.conftest import bearer, new_assessment


@pytest.fixture
def files(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """A dataset and a model folder inside the data dir; a secret and a model outside it;
    symlinks inside pointing out."""
    inside = Path(settings.data_dir) / "safety"
    (inside / "model").mkdir(parents=True, exist_ok=True)
    (inside / "model" / "config.json").write_text("{}")
    (inside / "train.jsonl").write_text('{"messages": []}\n')
    outside = tmp_path / "outside"
    (outside / "model").mkdir(parents=True)
    (outside / "model" / "config.json").write_text("{}")
    (outside / "secret.jsonl").write_text('{"secret": 1}\n')
    for name, target in (
        ("link.jsonl", outside / "secret.jsonl"),
        ("linkmodel", outside / "model"),
    ):
        link = inside / name
        if link.is_symlink():
            link.unlink()
        os.symlink(target, link)
    return {
        "dataset": str(inside / "train.jsonl"),
        "model": str(inside / "model"),
        "outside_dataset": str(outside / "secret.jsonl"),
        "outside_model": str(outside / "model"),
        "link_dataset": str(inside / "link.jsonl"),
        "link_model": str(inside / "linkmodel"),
    }


def _count(client: TestClient) -> int:
    with client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(select(func.count()).select_from(Job)).scalar_one())


def _folders(settings: Settings) -> set[str]:
    root = jobs_root(settings)
    return {p.name for p in root.iterdir() if p.is_dir()} if root.exists() else set()


def _refused(
    client: TestClient, settings: Settings, body: dict[str, Any], field: str
) -> dict[str, Any]:
    before, folders = _count(client), _folders(settings)
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 422, (body, response.text)
    detail = response.json()["detail"]
    assert [d["field"] for d in detail] == [field], detail
    assert _count(client) == before, "a refused job left a row"
    assert _folders(settings) == folders, "a refused job left a folder"
    item: dict[str, Any] = detail[0]
    return item


def _body(files: dict[str, str], **params: Any) -> dict[str, Any]:
    base = {"base_model": "Qwen/Qwen2.5-0.5B", "dataset": files["dataset"], "gpu": "cpu"}
    return {"recipe": "sft-lora", "runner": "local", "params": {**base, **params}}


def test_only_training_recipes_run(client: TestClient, settings: Settings, files: dict) -> None:
    item = _refused(client, settings, {**_body(files), "recipe": "prompt-eval"}, "recipe")
    assert "playbook" in item["message"] and "sft-lora" in item["allowed"]
    assert "prompt-eval" not in item["allowed"]
    _refused(client, settings, {**_body(files), "recipe": "no-such-recipe"}, "recipe")


def test_only_configured_runners(client: TestClient, settings: Settings, files: dict) -> None:
    item = _refused(client, settings, {**_body(files), "runner": "ray"}, "runner")
    assert item["allowed"] == ["local"] and "RAY_ADDRESS" in item["message"]
    _refused(client, settings, {**_body(files), "runner": "slurm"}, "runner")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_steps": 0}, "max_steps"),
        ({"max_steps": "many"}, "max_steps"),
        ({"epochs": 1000}, "epochs"),
        ({"max_length": 3}, "max_length"),
        ({"gpu": "TPU-v9"}, "gpu"),
        ({"learning_rate": 1}, "learning_rate"),
        ({"output_dir": "/tmp/elsewhere"}, "output_dir"),
        ({"output_dir": "../up"}, "output_dir"),
        ({"dataset": "../../../etc/passwd"}, "dataset"),
        ({"dataset": "/etc/passwd"}, "dataset"),
        ({"dataset": "safety/missing.jsonl"}, "dataset"),
        ({"base_model": "../../models/x"}, "base_model"),
        ({"base_model": "/etc"}, "base_model"),
        ({"base_model": "a/b/c"}, "base_model"),
    ],
)
def test_bad_values_and_paths(
    client: TestClient, settings: Settings, files: dict, params: dict, field: str
) -> None:
    _refused(client, settings, _body(files, **params), field)


def test_paths_outside_and_symlinks_out(
    client: TestClient, settings: Settings, files: dict
) -> None:
    _refused(client, settings, _body(files, dataset=files["outside_dataset"]), "dataset")
    _refused(client, settings, _body(files, dataset=files["link_dataset"]), "dataset")
    _refused(client, settings, _body(files, base_model=files["outside_model"]), "base_model")
    _refused(client, settings, _body(files, base_model=files["link_model"]), "base_model")
    _refused(client, settings, _body(files, teacher_model=files["link_model"]), "teacher_model")


def test_accepted_paths_and_hub_ids(client: TestClient, settings: Settings, files: dict) -> None:
    """A path relative to the data dir, a local model folder and a hub id all go in; the job
    folder holds the config, the dataset and the argv (a list, never a shell line)."""
    made = client.post("/api/jobs", json=_body(files, dataset="safety/train.jsonl"))
    assert made.status_code == 201, made.text
    folder = jobs_root(settings) / made.json()["id"]
    config = (folder / "config.yaml").read_text()
    assert "model_name_or_path: Qwen/Qwen2.5-0.5B" in config
    assert "data_files: data/train.jsonl" in config and (folder / "data/train.jsonl").is_file()
    assert (
        '"argv": [\n    "trl",\n    "sft",\n    "--config",\n    "config.yaml"\n  ]'
        in (folder / "job.json").read_text()
    )
    local = client.post("/api/jobs", json=_body(files, base_model=files["model"], params_b=0.001))
    assert local.status_code == 201, local.text
    assert local.json()["params"]["base_model"] == files["model"]


def test_outsiders_get_404(client: TestClient, settings: Settings, files: dict) -> None:
    created = new_assessment(client)
    job = client.post("/api/jobs", json={**_body(files), "assessment": created["id"]}).json()
    key = bearer(created["edit_key"])
    client.cookies.clear()
    assert client.get(f"/api/jobs/{job['id']}", headers=key).status_code == 200
    other = new_assessment(client)  # an outsider with a key of their own
    for method, path in (
        ("GET", f"/api/jobs/{job['id']}"),
        ("GET", f"/api/jobs/{job['id']}/logs"),
        ("POST", f"/api/jobs/{job['id']}/cancel"),
        ("GET", f"/jobs/{job['id']}"),
        ("GET", "/api/jobs/not-a-job"),
    ):
        refused = client.request(method, path, headers=bearer(other["edit_key"]))
        assert refused.status_code == 404, (method, path, refused.status_code)
        assert "sft-lora" not in refused.text and "Qwen" not in refused.text
    assert client.get("/api/jobs", headers=bearer(other["edit_key"])).json() == []
    assert client.get(f"/api/jobs/{job['id']}", headers=key).json()["status"] == "queued"
    # Submitting onto someone else's assessment is the same 404, and stores nothing.
    before = _count(client)
    onto = client.post(
        "/api/jobs",
        json={**_body(files), "assessment": created["id"]},
        headers=bearer(other["edit_key"]),
    )
    assert onto.status_code == 404 and _count(client) == before


def test_the_local_user_until_accounts_exist(
    client: TestClient, settings: Settings, files: dict
) -> None:
    """Without accounts, a job without an assessment is the local user's (anyone here); once
    someone signs up, such a job needs a signed-in owner and old ones are the owner's only."""
    local = client.post("/api/jobs", json=_body(files)).json()
    assert client.get(f"/api/jobs/{local['id']}").status_code == 200
    user = client.post("/api/users", json={"email": "a@example.org", "password": "long password 1"})
    assert user.status_code == 201
    assert client.get(f"/api/jobs/{local['id']}").status_code == 404
    assert client.post("/api/jobs", json=_body(files)).status_code == 401
    token = client.post(
        "/api/tokens", json={"email": "a@example.org", "password": "long password 1"}
    )
    auth = bearer(token.json()["token"])
    mine = client.post("/api/jobs", json=_body(files), headers=auth)
    assert mine.status_code == 201, mine.text
    assert client.get(f"/api/jobs/{mine.json()['id']}", headers=auth).status_code == 200
    assert client.get(f"/api/jobs/{mine.json()['id']}").status_code == 404
    assert [j["id"] for j in client.get("/api/jobs", headers=auth).json()] == [mine.json()["id"]]
