"""A real tiny training run: offline model and tokenizer, rendered TRL configs, trl CLI on CPU."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.jobs.demo import build_model, build_tokenizer, write_datasets
from app.recipes import get_recipe, render, resolve_params
from tests.support import require_module

pytestmark = pytest.mark.training


def _patch_for_speed(text: str, **changes: Any) -> str:
    """Shrink batch and generation sizes so the run takes seconds; the rest is as rendered."""
    import yaml

    config = yaml.safe_load(text)
    assert config["use_cpu"] is True and config["bf16"] is False
    config.update(changes)
    return yaml.safe_dump(config, sort_keys=False)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A tiny student and teacher sharing one BPE tokenizer, and the three datasets."""
    for module in TRAINING_MODULES:
        require_module(module)
    root = tmp_path_factory.mktemp("tiny")
    tokenizer = build_tokenizer(root / "tokenizer")
    sizes = {
        "student": build_model(root / "student", tokenizer, hidden=96),
        "teacher": build_model(root / "teacher", tokenizer, hidden=128),
    }
    return {"root": root, "sizes": sizes, "data": write_datasets(root)}


def _run_trl(
    command: str, config_text: str, root: Path, name: str
) -> subprocess.CompletedProcess[str]:
    config = root / f"{name}.yaml"
    config.write_text(config_text, encoding="utf-8")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(root / "hf-home"),
        "WANDB_DISABLED": "true",
        "TOKENIZERS_PARALLELISM": "false",
        "CUDA_VISIBLE_DEVICES": "",
    }
    trl = Path(sys.executable).with_name("trl")
    argv = [str(trl), command, "--config", str(config)]
    return subprocess.run(
        argv, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _losses(output_dir: Path) -> list[float]:
    states = sorted(output_dir.glob("checkpoint-*/trainer_state.json"))
    assert states, f"no checkpoint written in {output_dir}"
    history = json.loads(states[-1].read_text())["log_history"]
    return [float(e["loss"]) for e in history if "loss" in e]


TRAINING_MODULES = (
    "torch",
    "transformers",
    "peft",
    "trl",
    "datasets",
    "accelerate",
    "tokenizers",
    "yaml",
)
CASES = [
    ("sft-lora", "sft", "sft", {}),
    ("dpo-lora", "dpo", "dpo", {}),
    ("distill-logit", "distillation", "distill", {"max_completion_length": 16}),
    ("distill-teacher-sft", "sft", "sft", {}),
]


@pytest.mark.parametrize(
    ("recipe_id", "command", "data", "extra"), CASES, ids=[c[0] for c in CASES]
)
def test_tiny_run(workspace, recipe_id, command, data, extra):  # type: ignore[no-untyped-def]
    """Render the recipe for the tiny model, train 3 steps with the trl CLI, check the outputs."""
    root: Path = workspace["root"]
    recipe = get_recipe(recipe_id)
    out = root / "out" / recipe_id
    params = resolve_params(
        recipe,
        {
            "base_model": str(root / "student"),
            "dataset": str(workspace["data"][data]),
            "gpu": "cpu",
            "max_steps": "3",
            "max_length": "128",
            "output_dir": str(out),
            "teacher_model": str(root / "teacher"),
        },
        local_files=True,
    )
    # params_b comes from the local config.json: a few hundred thousand parameters.
    assert params.params_source == "config.json"
    assert params.params_b == pytest.approx(workspace["sizes"]["student"] / 1e9, rel=0.05)
    rendered = render(recipe, params, "trl")
    text = _patch_for_speed(
        rendered.content,
        gradient_accumulation_steps=1,
        per_device_train_batch_size=2,
        save_strategy="steps",
        save_steps=3,
        **extra,
    )
    started = time.monotonic()
    result = _run_trl(command, text, root, recipe_id)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, (
        f"trl {command} failed after {elapsed:.0f}s:\n{result.stderr[-4000:]}"
    )
    if recipe.trains_adapter:
        assert (out / "adapter_model.safetensors").is_file()
        assert (out / "adapter_config.json").is_file()
    else:
        assert (out / "model.safetensors").is_file()
    losses = _losses(out)
    assert losses and all(math.isfinite(x) for x in losses), losses
