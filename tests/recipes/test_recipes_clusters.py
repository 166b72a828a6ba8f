"""Cluster exports: each parsed by its own schema (Kubernetes client models, SkyPilot's task
schema, bash -n and the #SBATCH lines), resources from the estimate, user text never run."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from app.recipes import (
    NotAvailable,
    available_formats,
    estimate,
    get_recipe,
    list_ids,
    render,
    resolve_params,
)
from app.recipes.export_clusters import load_clusters
from app.recipes_cli import recipe_app
from tests.support import require_module

# Cluster files wrap a TRL config: every training recipe but the encoder student (a script).
TRAINING = [rid for rid in list_ids() if "trl" in available_formats(get_recipe(rid))]
SCHEMA = Path(__file__).parent / "schemas" / "skypilot-task.schema.json"
HOSTILE = {
    "base_model": "/models/my model's $(touch pwned)",
    "params_b": "8",
    "dataset": "data/x; touch pwned `id` $HOME.jsonl",
    "output_dir": "out/it's here",
}


def _expected_argv(recipe_id: str, params: Any, config_path: str) -> list[str]:
    recipe = get_recipe(recipe_id)
    count = estimate(recipe, params).gpu.count
    argv = ["trl", str(recipe.method), "--config", config_path]
    return argv + (["--num_processes", str(count)] if count > 1 else [])


def _unknown_keys(data: Any, klass: str, path: str = "") -> list[str]:
    """Keys the Kubernetes client's model for `klass` does not define, recursively."""
    kubernetes = require_module("kubernetes")
    if klass.lower().startswith("list["):
        inner = klass[5:-1]
        return [
            k for i, item in enumerate(data) for k in _unknown_keys(item, inner, f"{path}[{i}]")
        ]
    if not hasattr(kubernetes.client, klass):
        return []  # a primitive or a Dict[str, str]
    model = getattr(kubernetes.client, klass)
    by_json = {json_key: attr for attr, json_key in model.attribute_map.items()}
    out = []
    for key, value in data.items():
        if key not in by_json:
            out.append(f"{path}.{key}")
        else:
            out += _unknown_keys(value, model.openapi_types[by_json[key]], f"{path}.{key}")
    return out


def test_unknown_keys_finds_misspelt_fields_at_any_depth() -> None:
    job = {"spec": {"template": {"spec": {"restartPolcy": "Never", "containers": [{"imag": "x"}]}}}}
    assert _unknown_keys(job, "V1Job") == [
        ".spec.template.spec.restartPolcy",
        ".spec.template.spec.containers[0].imag",
    ]


def _k8s_docs(recipe_id: str, overrides: dict[str, str] | None = None) -> tuple[Any, Any, Any]:
    yaml = require_module("yaml")
    kubernetes = require_module("kubernetes")
    recipe = get_recipe(recipe_id)
    params = resolve_params(recipe, overrides)
    config_map, job = yaml.safe_load_all(render(recipe, params, "kubernetes").content)
    assert _unknown_keys(config_map, "V1ConfigMap") == []
    assert _unknown_keys(job, "V1Job") == []
    api = kubernetes.client.ApiClient()
    # The client's own deserializer: required fields missing raise ValueError.
    deserialize = api._ApiClient__deserialize
    return params, deserialize(config_map, "V1ConfigMap"), deserialize(job, "V1Job")


@pytest.mark.parametrize("recipe_id", TRAINING)
def test_kubernetes_job_loads_into_the_client_models(recipe_id: str) -> None:
    params, config_map, job = _k8s_docs(recipe_id)
    recipe = get_recipe(recipe_id)
    e = estimate(recipe, params)
    defaults = load_clusters().kubernetes
    assert job.api_version == "batch/v1" and job.kind == "Job"
    assert job.metadata.name == f"advisor-{recipe_id}"
    assert job.spec.backoff_limit == defaults.backoff_limit
    assert job.spec.ttl_seconds_after_finished == defaults.ttl_seconds_after_finished
    assert job.spec.active_deadline_seconds >= e.hours * 3600
    pod = job.spec.template.spec
    assert pod.restart_policy == "Never"
    [container] = pod.containers
    assert container.image == defaults.image
    config = f"{recipe_id}.trl.yaml"
    assert container.command == _expected_argv(recipe_id, params, f"/config/{config}")
    assert container.resources.limits["nvidia.com/gpu"] == str(e.gpu.count)
    # The config the pod reads is the TRL export itself.
    assert config_map.data[config] == render(recipe, params, "trl").content
    volumes = {v.name: v for v in pod.volumes}
    assert volumes["config"].config_map.name == config_map.metadata.name
    assert volumes["workspace"].persistent_volume_claim.claim_name == defaults.workspace_claim
    mounts = {m.name: m.mount_path for m in container.volume_mounts}
    assert mounts["config"] == "/config" and container.working_dir == mounts["workspace"]
    [term] = (
        pod.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms
    )
    [rule] = term.match_expressions
    assert rule.key == "nvidia.com/gpu.memory" and rule.operator == "Gt"
    assert int(rule.values[0]) * 2**20 >= e.memory_gb * 1e9


def test_kubernetes_rft_ships_its_grader_and_cpu_runs_ask_for_no_gpu() -> None:
    _, config_map, job = _k8s_docs("rft-lora")
    assert set(config_map.data) == {"rft-lora.trl.yaml", "rft_grader.py"}
    env = {e.name: e.value for e in job.spec.template.spec.containers[0].env}
    assert env["PYTHONPATH"] == "/config"  # TRL imports rft_grader by its dotted name
    _, _, cpu_job = _k8s_docs("sft-lora", {"gpu": "cpu"})
    pod = cpu_job.spec.template.spec
    assert "nvidia.com/gpu" not in pod.containers[0].resources.limits and pod.affinity is None


@pytest.mark.parametrize("recipe_id", TRAINING)
def test_skypilot_task_matches_the_task_schema(recipe_id: str) -> None:
    yaml = require_module("yaml")
    jsonschema = require_module("jsonschema")
    recipe = get_recipe(recipe_id)
    params = resolve_params(recipe)
    task = yaml.safe_load(render(recipe, params, "skypilot").content)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(task)
    e = estimate(recipe, params)
    name = load_clusters().gpu_names["skypilot"][e.gpu.type]
    assert task["resources"]["accelerators"] == f"{name}:{e.gpu.count}"
    assert task["workdir"] == "."
    for pin in load_clusters().trainer_packages:
        assert pin in shlex.split(task["setup"].splitlines()[-1])
    run = task["run"].strip().splitlines()
    assert shlex.split(run[-1]) == _expected_argv(recipe_id, params, f"{recipe_id}.trl.yaml")


def test_skypilot_schema_rejects_what_sky_rejects() -> None:
    jsonschema = require_module("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    assert not validator.is_valid({"name": "x", "resource": {}})  # a misspelt field
    assert not validator.is_valid({"resources": {"gpus": "A100:1"}})
    assert not validator.is_valid({"envs": {"1BAD": "x"}})


def test_skypilot_mounts_absolute_paths_and_quotes_them() -> None:
    yaml = require_module("yaml")
    recipe = get_recipe("sft-lora")
    params = resolve_params(recipe, {**HOSTILE, "dataset": "/srv/data/it's.jsonl"})
    task = yaml.safe_load(render(recipe, params, "skypilot").content)
    assert task["file_mounts"] == {p: p for p in (HOSTILE["base_model"], "/srv/data/it's.jsonl")}


def _sbatch(content: str) -> dict[str, str]:
    directives: dict[str, str] = {}
    for line in content.splitlines()[1:]:
        if line.startswith("#SBATCH "):
            key, _, value = line.removeprefix("#SBATCH ").partition("=")
            directives[key] = value
        elif line and not line.startswith("#"):
            break  # sbatch reads directives only before the first command
    return directives


@pytest.mark.parametrize("recipe_id", TRAINING)
def test_slurm_script_parses_and_asks_for_the_estimate(recipe_id: str) -> None:
    bash = shutil.which("bash")
    assert bash, "bash is needed to check the Slurm scripts"
    recipe = get_recipe(recipe_id)
    params = resolve_params(recipe)
    content = render(recipe, params, "slurm").content
    checked = subprocess.run([bash, "-n"], input=content, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    assert content.startswith("#!/bin/bash\n") and "\nset -euo pipefail\n" in content
    d = _sbatch(content)
    e = estimate(recipe, params)
    gres = load_clusters().gpu_names["slurm"][e.gpu.type]
    assert d["--gres"] == f"gpu:{gres}:{e.gpu.count}" and d["--nodes"] == "1"
    assert d["--cpus-per-task"] == str(load_clusters().cpus_per_gpu * e.gpu.count)
    hours = re.fullmatch(r"(?:(\d+)-)?(\d\d):(\d\d):00", d["--time"])
    assert hours, d["--time"]
    limit_h = int(hours[1] or 0) * 24 + int(hours[2]) + int(hours[3]) / 60
    assert limit_h >= e.hours
    last = content.strip().splitlines()[-1]
    assert shlex.split(last) == [
        "srun",
        *_expected_argv(recipe_id, params, f"{recipe_id}.trl.yaml"),
    ]


def test_slurm_script_runs_no_user_text(tmp_path: Path) -> None:
    """Hostile paths are quoted: the script's checks run and fail cleanly, touching nothing."""
    recipe = get_recipe("sft-lora")
    params = resolve_params(recipe, {**HOSTILE, "gpu": "cpu"})
    script = tmp_path / "job.sh"
    script.write_text(render(recipe, params, "slurm").content)
    assert "--gres" not in _sbatch(script.read_text())
    (tmp_path / "sft-lora.trl.yaml").write_text("x")
    result = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert f"missing {HOSTILE['dataset']}" in result.stderr
    assert not (tmp_path / "pwned").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "job.sh",
        "sft-lora.trl.yaml",
    ]


def test_more_than_one_node_is_refused_by_name() -> None:
    recipe = get_recipe("sft-full")
    params = resolve_params(recipe, {"params_b": "70", "gpu": "L4"})
    assert estimate(recipe, params).gpu.count > load_clusters().gpus_per_node
    for fmt in ("skypilot", "kubernetes", "slurm"):
        with pytest.raises(NotAvailable) as info:
            render(recipe, params, fmt)
        assert "more than one node" in info.value.message and info.value.key == "format"


def test_playbooks_have_no_cluster_export() -> None:
    recipe = get_recipe("prompt-eval")
    with pytest.raises(NotAvailable, match="playbook"):
        render(recipe, resolve_params(recipe), "kubernetes")


def test_cli_renders_cluster_formats() -> None:
    cli = typer.Typer()
    cli.add_typer(recipe_app, name="recipe")
    runner = CliRunner()
    for fmt, start in (("skypilot", "# "), ("kubernetes", "# "), ("slurm", "#!/bin/bash")):
        result = runner.invoke(
            cli, ["recipe", "render", "dpo-lora", "--format", fmt, "--set", "gpu=H100"]
        )
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith(start) and "note:" in result.stderr
    result = runner.invoke(
        cli,
        [
            "recipe",
            "render",
            "sft-full",
            "--format",
            "slurm",
            "--set",
            "params_b=70",
            "--set",
            "gpu=L4",
        ],
    )
    assert result.exit_code == 2 and "more than one node" in result.stderr
