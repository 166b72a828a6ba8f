"""Cluster formats and rft-lora over the JSON API: rendered, or refused naming the format."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient

from app.recipes import FORMATS
from app.web.errors import ErrorBody


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The recipes API stores nothing: SQLite will do."""
    return sqlite_url


def test_render_cluster_formats(client: TestClient) -> None:
    r = client.get("/api/recipes/dpo-lora/render", params={"format": "kubernetes", "gpu": "L4"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/yaml")
    config_map, job = yaml.safe_load_all(r.text)
    assert config_map["kind"] == "ConfigMap" and job["apiVersion"] == "batch/v1"
    limits = job["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"  # a quantity, quoted as Kubernetes prints it
    r = client.get("/api/recipes/sft-lora/render", params={"format": "slurm", "download": "1"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/x-shellscript")
    assert 'filename="sft-lora.slurm.sh"' in r.headers["content-disposition"]
    shown = client.get("/api/recipes/rft-lora").json()
    assert shown["method"] == "grpo" and len(shown["sources"]) >= 4
    assert shown["formats"] == ["trl", "grader", "skypilot", "kubernetes", "slurm", "eval"]


def test_refusals_name_the_format(client: TestClient) -> None:
    r = client.get("/api/recipes/rft-lora/render", params={"format": "axolotl"})
    [problem] = ErrorBody.model_validate(r.json()).detail
    assert r.status_code == 422 and problem.field == "format" and problem.type == "not_available"
    assert "rft-lora is not available for axolotl" in problem.message
    r = client.get(
        "/api/recipes/sft-full/render", params={"format": "slurm", "params_b": "70", "gpu": "L4"}
    )
    [problem] = ErrorBody.model_validate(r.json()).detail
    assert r.status_code == 422 and "more than one node" in problem.message
    r = client.get("/api/recipes/sft-lora/render", params={"format": "helm"})
    [problem] = ErrorBody.model_validate(r.json()).detail
    assert problem.field == "format" and problem.allowed == list(FORMATS)
    assert {"skypilot", "kubernetes", "slurm", "grader"} <= set(problem.allowed)
