"""Reinforcement fine-tuning: TRL's GRPO config (`trl grpo --config FILE`) and its grader."""

from __future__ import annotations

from typing import Any

from app.recipes.catalog import Recipe, load_catalog
from app.recipes.errors import BadValue
from app.recipes.export_trainers import TRAINING_ARG_EXPLAIN, trl_training_args
from app.recipes.params import RecipeParams
from app.recipes.yamlout import emit

# TRL's grpo script imports a reward function given as a dotted path, after putting the
# working directory on sys.path: the grader module sits beside the config.
GRADER_FILE = "rft_grader.py"
GRADER_FUNCTION = "rft_grader.exact_match_reward"

# Why each other format is refused for GRPO (checked against the tools' documentation).
_WHY_NOT = {
    "axolotl": "Axolotl's GRPO needs a separate vLLM server and its own reward module layout; "
    "this catalog cannot validate that config here",
    "llamafactory": "LLaMA-Factory offers PPO, DPO and KTO but no GRPO",
    "openai": "OpenAI's reinforcement fine-tuning tunes only its reasoning models, with its own "
    "grader objects; this catalog has no validated job body for it yet",
    "together": "this catalog knows no reinforcement fine-tuning method in Together's "
    "fine-tuning API",
    "fireworks": "this catalog has no validated Fireworks reinforcement fine-tuning job body",
}


def why_not(recipe: Recipe, fmt: str) -> str:
    """The refusal message for a format GRPO is not exported to."""
    reason = _WHY_NOT.get(fmt, "the method does not exist there")
    return f"{recipe.id} is not available for {fmt}: {reason}; use --format trl"


def run_command(recipe: Recipe) -> str:
    """The command that runs the exported config (from the folder holding the grader)."""
    return f"trl grpo --config {recipe.id}.trl.yaml"


def trl_grpo_yaml(recipe: Recipe, params: RecipeParams) -> str:
    """TRL 1.x GRPO config with LoRA and the grader named by its dotted path."""
    cpu = params.gpu == "cpu"
    h = recipe.hyper
    model: dict[str, Any] = {
        "model_name_or_path": params.base_model,
        "dtype": "float32" if cpu else "bfloat16",
        "use_peft": True,
        "lora_r": h["lora_r"],
        "lora_alpha": h["lora_alpha"],
        "lora_dropout": h["lora_dropout"],
        "lora_target_modules": h["lora_target"],
    }
    data: dict[str, Any] = {
        "datasets": [{"path": "json", "data_files": params.dataset, "split": "train"}],
        "reward_funcs": [GRADER_FUNCTION],
    }
    group = int(h["num_generations"])
    batch = int(h["per_device_train_batch_size"]) * int(h["gradient_accumulation_steps"])
    if batch % group:
        raise BadValue(
            f"{recipe.id}: per_device_train_batch_size x gradient_accumulation_steps ({batch}) "
            f"must be a multiple of num_generations ({group})",
            key="num_generations",
        )
    grpo: dict[str, Any] = {
        "num_generations": group,
        "max_completion_length": h["rollout_tokens"],
        "temperature": h["sampling_temperature"],
        "beta": h["kl_beta"],
    }
    train = trl_training_args(params, h, cpu=cpu)
    explain = load_catalog().explain
    comments = {
        key: explain[name]
        for key, name in {
            "model_name_or_path": "base_model",
            "lora_r": "lora_r",
            "lora_alpha": "lora_alpha",
            "lora_dropout": "lora_dropout",
            "lora_target_modules": "lora_target",
            "reward_funcs": "grader",
            "num_generations": "num_generations",
            "max_completion_length": "rollout_tokens",
            "temperature": "sampling_temperature",
            "beta": "kl_beta",
            **TRAINING_ARG_EXPLAIN,
        }.items()
    }
    comments["datasets"] = "Local JSONL loaded with the datasets `json` builder."
    comments["per_device_train_batch_size"] = (
        "Completions per GPU per step; with gradient accumulation it must hold whole groups of "
        "num_generations."
    )
    if cpu:
        comments["use_cpu"] = "Local CPU run: no CUDA, so no bf16 (float32 weights)."
    header = [
        f"{recipe.title}: recipe {recipe.id} (catalog {load_catalog().version}), by Adaptation "
        "Advisor.",
        f"Run: {run_command(recipe)}  (in the folder holding {GRADER_FILE})",
        f"Data: {recipe.dataset_format}",
        "Extra columns (here `solution`) reach the grader as keyword arguments.",
    ]
    return emit(
        [("model", model), ("data and grader", data), ("grpo", grpo), ("training", train)],
        header=header,
        comments=comments,
    )


_GRADER = '''"""Grader for recipe {recipe_id}: 1.0 when a completion's final answer is `solution`.

Written by Adaptation Advisor (catalog {version}). TRL's GRPO trainer calls
exact_match_reward with the sampled completions and every extra dataset column as keyword
arguments; it must return one float per completion. Make the check as strict as your task
allows: a grader that can be fooled teaches the model to fool it.
"""

import re
import string

BOXED = re.compile(r"\\\\boxed\\{{([^{{}}]*)\\}}")
ANSWER = re.compile(r"answer\\s*[:=]\\s*(.+)", re.IGNORECASE)


def completion_text(completion):
    """The generated text: a string, or the last message of a conversational completion."""
    if isinstance(completion, str):
        return completion
    return completion[-1]["content"] if completion else ""


def final_answer(text):
    """The last \\\\boxed{{...}}, else the text after the last "Answer:", else the last line."""
    boxed = BOXED.findall(text)
    if boxed:
        return boxed[-1]
    stated = ANSWER.findall(text)
    if stated:
        return stated[-1]
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def normalize(text):
    """Case, surrounding punctuation and runs of spaces do not count."""
    text = " ".join(str(text).lower().split())
    return text.strip(string.punctuation + " ")


def exact_match_reward(completions, solution, **kwargs):
    """1.0 for each completion whose final answer matches its reference, else 0.0."""
    return [
        1.0 if normalize(final_answer(completion_text(c))) == normalize(s) else 0.0
        for c, s in zip(completions, solution, strict=True)
    ]
'''


def grader_module(recipe: Recipe) -> str:
    """The grader module's source, named in the config as rft_grader.exact_match_reward."""
    return _GRADER.format(recipe_id=recipe.id, version=load_catalog().version)
