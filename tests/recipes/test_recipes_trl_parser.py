"""Every TRL export is read by TRL's own argument parser (TrlParser with its config dataclasses)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from app.recipes import available_formats, get_recipe, list_ids, render, resolve_params
from tests.support import require_module

pytestmark = pytest.mark.training

# QLoRA has no CPU variant: 4-bit loading needs CUDA, and the export refuses gpu=cpu.
CASES = [
    (rid, gpu)
    for rid in list_ids()
    if "trl" in available_formats(get_recipe(rid))  # the encoder student is a script
    for gpu in ("cpu", "auto")
    if not (gpu == "cpu" and get_recipe(rid).adapter == "qlora")
]


@pytest.mark.parametrize(("recipe_id", "gpu"), CASES, ids=[f"{r}-{g}" for r, g in CASES])
def test_trl_parser_reads_the_export(recipe_id: str, gpu: str, tmp_path: Path) -> None:
    require_module("trl")
    recipe = get_recipe(recipe_id)
    params = resolve_params(recipe, {"gpu": gpu, "max_steps": "5"})
    path = tmp_path / f"{recipe_id}.yaml"
    path.write_text(render(recipe, params, "trl").content, encoding="utf-8")
    module = importlib.import_module(f"trl.scripts.{recipe.method}")
    # Only the CPU variant can build TrainingArguments here (bf16 needs a GPU); the GPU variant
    # is parsed with bf16 switched off on the command line, as TRL lets CLI flags override.
    extra = [] if gpu == "cpu" else ["--bf16", "false"]
    parser = module.make_parser()
    *parsed, remaining = parser.parse_args_and_config(
        ["--config", str(path), *extra], return_remaining_strings=True
    )
    _script_args, training_args, model_args, dataset_args = parsed
    # Nothing in the file is unknown to TRL except the accelerate launcher's own key.
    assert remaining in ([], ["--accelerate_config", "zero3"])
    assert model_args.model_name_or_path == params.base_model
    assert training_args.max_steps == 5
    assert training_args.output_dir == params.output_dir
    assert training_args.learning_rate == recipe.hyper["learning_rate"]
    assert dataset_args.datasets[0].data_files == params.dataset
    if recipe.method in ("sft", "dpo"):
        assert training_args.max_length == params.max_length
    if recipe.trains_adapter:
        assert model_args.use_peft and model_args.lora_r == 16 and model_args.lora_alpha == 32
    if recipe.adapter == "qlora":
        assert model_args.load_in_4bit and model_args.bnb_4bit_quant_type == "nf4"
    if recipe.method == "dpo":
        assert training_args.beta == 0.1
    if recipe.method == "distillation":
        assert training_args.teacher_model_name_or_path == params.teacher_model
    if gpu == "cpu":
        assert training_args.use_cpu and not training_args.bf16
