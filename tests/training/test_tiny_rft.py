"""A real tiny GRPO run: the rendered rft-lora config and grader, `trl grpo` on CPU, offline."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any

import pytest

from app.jobs.demo import TRAINING_MODULES, WORDS, build_model, build_tokenizer
from app.recipes import get_recipe, render, resolve_params
from app.recipes.export_grpo import GRADER_FILE
from tests.support import require_module
from tests.training.test_tiny_training import _losses, _patch_for_speed, _run_trl

pytestmark = pytest.mark.training


def _graded_prompts(path: Path) -> Path:
    """Prompts with the reference answer the grader checks: 'repeat the last word'."""
    rng = random.Random(2)
    rows = []
    for _ in range(24):
        words = [rng.choice(WORDS) for _ in range(5)]
        question = " ".join(words)
        rows.append({"prompt": [{"role": "user", "content": question}], "solution": words[-1]})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_tiny_grpo_run(tmp_path: Path) -> None:
    """Render rft-lora for the tiny model, train 3 GRPO steps, check adapter, rewards and loss."""
    for module in TRAINING_MODULES:
        require_module(module)
    tokenizer = build_tokenizer(tmp_path / "tokenizer")
    size = build_model(tmp_path / "student", tokenizer, hidden=96)
    recipe = get_recipe("rft-lora")
    out = tmp_path / "out"
    params = resolve_params(
        recipe,
        {
            "base_model": str(tmp_path / "student"),
            "dataset": str(_graded_prompts(tmp_path / "rft.jsonl")),
            "gpu": "cpu",
            "max_steps": "3",
            "max_length": "128",
            "output_dir": str(out),
        },
        local_files=True,
    )
    assert params.params_source == "config.json"
    assert params.params_b == pytest.approx(size / 1e9, rel=0.05)
    # The grader sits beside the config, where TRL's grpo script imports it from.
    (tmp_path / GRADER_FILE).write_text(render(recipe, params, "grader").content)
    text = _patch_for_speed(
        render(recipe, params, "trl").content,
        num_generations=2,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=1,
        max_completion_length=8,
        save_strategy="steps",
        save_steps=3,
    )
    started = time.monotonic()
    result = _run_trl("grpo", text, tmp_path, "rft-lora")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"trl grpo failed after {elapsed:.0f}s:\n{result.stderr[-4000:]}"
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "adapter_config.json").is_file()
    losses = _losses(out)
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses), losses
    history: list[dict[str, Any]] = json.loads(
        sorted(out.glob("checkpoint-*/trainer_state.json"))[-1].read_text()
    )["log_history"]
    # The grader ran on every step: TRL logs its mean score under the function's name.
    graded = [e["rewards/exact_match_reward/mean"] for e in history if "loss" in e]
    assert len(graded) == 3 and all(0.0 <= r <= 1.0 for r in graded), history
