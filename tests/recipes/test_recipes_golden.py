"""Golden-file tests for every export; UPDATE_GOLDEN=1 rewrites the files in golden/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.recipes import (
    FORMATS,
    NotAvailable,
    available_formats,
    get_recipe,
    list_ids,
    render,
    resolve_params,
)
from tests.support import IN_CI, require_module

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

CASES = [(rid, fmt) for rid in list_ids() for fmt in available_formats(get_recipe(rid))]
# A local CPU smoke-test variant of each TRL export (use_cpu, no bf16, max_steps).
CPU_CASES = [
    rid for rid in list_ids() if "trl" in available_formats(get_recipe(rid)) and rid != "sft-qlora"
]


def _check(name: str, content: str) -> None:
    path = GOLDEN / f"{name}.golden"  # a suffix of its own keeps formatters and linters away
    if UPDATE:
        if IN_CI:
            pytest.fail("UPDATE_GOLDEN=1 under CI=true would compare every export with itself")
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(content, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert content == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize(("recipe_id", "fmt"), CASES, ids=[f"{r}-{f}" for r, f in CASES])
def test_export_matches_golden(recipe_id: str, fmt: str) -> None:
    recipe = get_recipe(recipe_id)
    rendered = render(recipe, resolve_params(recipe), fmt)
    suffix = rendered.filename.rsplit(".", 1)[-1]
    _check(f"{recipe_id}.{fmt}.{suffix}", rendered.content)


@pytest.mark.parametrize("recipe_id", CPU_CASES)
def test_cpu_trl_export_matches_golden(recipe_id: str) -> None:
    recipe = get_recipe(recipe_id)
    params = resolve_params(recipe, {"gpu": "cpu", "max_steps": "3"})
    _check(f"{recipe_id}.trl-cpu.yaml", render(recipe, params, "trl").content)


def test_every_pair_is_either_rendered_or_refused_by_name() -> None:
    for rid in list_ids():
        recipe = get_recipe(rid)
        for fmt in FORMATS:
            if fmt in available_formats(recipe):
                continue
            with pytest.raises(NotAvailable) as info:
                render(recipe, resolve_params(recipe), fmt)
            assert rid in info.value.message
            assert "not available" in info.value.message or "playbook" in info.value.message


def test_yaml_exports_load_and_hosted_exports_are_json() -> None:
    yaml = require_module("yaml")
    for rid, fmt in CASES:
        recipe = get_recipe(rid)
        content = render(recipe, resolve_params(recipe), fmt).content
        if fmt in ("openai", "together", "fireworks"):
            assert isinstance(json.loads(content), dict)
        elif fmt in ("slurm", "grader"):
            continue  # a shell script and a Python module: test_recipes_clusters / _rft check them
        elif fmt == "script":
            compile(content, f"{rid}.train.py", "exec")  # test_recipes_encoder runs it
        elif fmt == "kubernetes":
            assert [d["kind"] for d in yaml.safe_load_all(content)] == ["ConfigMap", "Job"]
        elif fmt != "eval" or content.lstrip().startswith("#"):
            assert isinstance(yaml.safe_load(content), dict), (rid, fmt)


def test_trl_yaml_uses_trl_1x_names_on_cpu() -> None:
    yaml = require_module("yaml")
    recipe = get_recipe("sft-lora")
    config = yaml.safe_load(render(recipe, resolve_params(recipe, {"gpu": "cpu"}), "trl").content)
    assert config["use_cpu"] is True and config["bf16"] is False
    assert "max_length" in config and "max_seq_length" not in config
    assert config["lora_r"] == 16 and config["lora_alpha"] == 32 and config["lora_dropout"] == 0.05
    assert config["lora_target_modules"] == "all-linear" and config["learning_rate"] == 2e-4


def test_qlora_and_full_defaults() -> None:
    yaml = require_module("yaml")
    qlora = yaml.safe_load(
        render(get_recipe("sft-qlora"), resolve_params(get_recipe("sft-qlora")), "trl").content
    )
    assert qlora["load_in_4bit"] is True and qlora["bnb_4bit_quant_type"] == "nf4"
    full = yaml.safe_load(
        render(get_recipe("sft-full"), resolve_params(get_recipe("sft-full")), "trl").content
    )
    assert full["learning_rate"] == 1e-5 and full["accelerate_config"] == "zero3"
    assert "use_peft" not in full
    dpo = yaml.safe_load(
        render(get_recipe("dpo-lora"), resolve_params(get_recipe("dpo-lora")), "trl").content
    )
    assert dpo["beta"] == 0.1
