"""Reinforcement fine-tuning (rft-lora): TRL's grpo parser reads the config, the grader grades,
the dataset check knows the layout, the estimate counts the sampled completions."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from app.recipes import (
    NotAvailable,
    available_formats,
    check_lines,
    estimate,
    get_recipe,
    recipe_for_step,
    render,
    resolve_params,
)
from app.recipes.export_grpo import GRADER_FILE, GRADER_FUNCTION
from tests.support import require_module

RECIPE = get_recipe("rft-lora")


def _grader(tmp_path: Path) -> ModuleType:
    path = tmp_path / GRADER_FILE
    path.write_text(render(RECIPE, resolve_params(RECIPE), "grader").content)
    spec = importlib.util.spec_from_file_location("rft_grader", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_technique_rft_links_the_recipe() -> None:
    assert recipe_for_step("preference_tuning", "rft") == "rft-lora"
    assert RECIPE.method == "grpo" and RECIPE.trains_adapter
    assert all(": https://" in source for source in RECIPE.sources) and len(RECIPE.sources) >= 4


@pytest.mark.training
@pytest.mark.parametrize("gpu", ["cpu", "auto"])
def test_trl_grpo_parser_reads_the_config(gpu: str, tmp_path: Path) -> None:
    require_module("trl")
    from trl.scripts import grpo

    params = resolve_params(RECIPE, {"gpu": gpu, "max_steps": "5"})
    path = tmp_path / "rft-lora.trl.yaml"
    path.write_text(render(RECIPE, params, "trl").content)
    extra = [] if gpu == "cpu" else ["--bf16", "false"]
    *parsed, remaining = grpo.make_parser().parse_args_and_config(
        ["--config", str(path), *extra], return_remaining_strings=True
    )
    script_args, training_args, model_args, dataset_args = parsed
    assert remaining == []
    assert script_args.reward_funcs == [GRADER_FUNCTION]
    assert dataset_args.datasets[0].data_files == params.dataset
    h = RECIPE.hyper
    assert training_args.num_generations == h["num_generations"]
    assert training_args.max_completion_length == h["rollout_tokens"]
    assert training_args.beta == h["kl_beta"] and training_args.temperature == 1.0
    assert training_args.learning_rate == h["learning_rate"] and training_args.max_steps == 5
    # GRPOConfig checked the batch: whole groups of num_generations per generation batch.
    assert training_args.generation_batch_size % h["num_generations"] == 0
    assert model_args.use_peft and model_args.lora_r == h["lora_r"]
    assert model_args.model_name_or_path == params.base_model


def test_grader_scores_final_answers(tmp_path: Path) -> None:
    grader = _grader(tmp_path)
    completions = [
        "Work: 6 * 7\nAnswer: 42",
        [{"role": "assistant", "content": r"so it is \boxed{42}."}],
        "The result is\n41",
        "I think 42 but the answer: 40",
        "",
    ]
    rewards = grader.exact_match_reward(completions, solution=["42"] * 5, prompts=None)
    assert rewards == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert grader.exact_match_reward(["  PARIS. "], solution=["Paris"]) == [1.0]
    with pytest.raises(ValueError):
        grader.exact_match_reward(["a", "b"], solution=["a"])  # one reference per completion


def test_other_formats_are_refused_with_the_reason() -> None:
    params = resolve_params(RECIPE)
    assert available_formats(RECIPE) == ["trl", "grader", "skypilot", "kubernetes", "slurm", "eval"]
    for fmt, words in (
        ("axolotl", "vLLM"),
        ("llamafactory", "no GRPO"),
        ("openai", "reasoning models"),
        ("together", "Together"),
        ("fireworks", "Fireworks"),
    ):
        with pytest.raises(NotAvailable) as info:
            render(RECIPE, params, fmt)
        assert "rft-lora is not available for" in info.value.message and words in info.value.message
    with pytest.raises(NotAvailable, match="grader"):
        render(get_recipe("sft-lora"), resolve_params(get_recipe("sft-lora")), "grader")


def test_dataset_check_for_grpo() -> None:
    lines = [
        json.dumps({"prompt": "What is 6 x 7?", "solution": "42"}),
        json.dumps({"prompt": [{"role": "user", "content": "Capital of France?"}], "solution": 1}),
        json.dumps({"prompt": "No reference"}),
        json.dumps({"prompt": [{"role": "assistant", "content": "x"}], "solution": "y"}),
        json.dumps({"prompt": "p", "solution": "s", "completion": "c"}),
    ]
    report = check_lines(lines, "grpo")
    assert not report.ok and report.formats == {"graded": 4}  # line 3 has no format
    assert [(e.line, e.code) for e in report.errors] == [
        (3, "missing_field"),
        (4, "role_order"),  # an assistant turn with no user turn before it
        (4, "role_order"),  # and a prompt must end with the user
    ]
    assert [(w.line, w.code) for w in report.warnings] == [(5, "answers_ignored")]
    assert check_lines(lines[:2], "grpo").ok


def test_estimate_counts_every_sampled_completion() -> None:
    params = resolve_params(RECIPE)
    e = estimate(RECIPE, params)
    h = RECIPE.hyper
    assert e.train_tokens == params.examples * h["num_generations"] * params.tokens_per_example
    # LoRA training (4 N T) plus sampling (2 N T); no reference pass at kl_beta 0.
    assert e.train_flops == pytest.approx(6 * params.params_b * 1e9 * e.train_tokens, rel=1e-3)
    assert any("GRPO samples every completion" in a for a in e.assumptions)
    assert e.gpu.count == 1 and e.memory_gb > params.params_b * 2
