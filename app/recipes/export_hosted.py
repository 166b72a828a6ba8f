"""Job request bodies for the hosted fine-tuning APIs: OpenAI, Together and Fireworks."""

from __future__ import annotations

import json
from typing import Any

from app.recipes.catalog import Recipe
from app.recipes.errors import NotAvailable
from app.recipes.params import RecipeParams

OPENAI_DEFAULT_MODEL = "gpt-4.1-mini-2025-04-14"
_OPENAI_PREFIXES = ("gpt-", "ft:", "o4-", "o3-")

# (platform, recipe id) pairs where the method exists there. QLoRA is a local memory trick no
# hosted API exposes; logit distillation needs the teacher's logits, which none of them accept.
AVAILABLE: dict[str, frozenset[str]] = {
    "openai": frozenset({"sft-lora", "sft-full", "dpo-lora", "distill-teacher-sft"}),
    "together": frozenset({"sft-lora", "sft-full", "dpo-lora", "distill-teacher-sft"}),
    "fireworks": frozenset({"sft-lora", "dpo-lora", "distill-teacher-sft"}),
}

_WHY_NOT = {
    "sft-qlora": "4-bit QLoRA is a local memory-saving technique; use sft-lora there instead",
    "sft-full": "it trains LoRA adapters only; use sft-lora there instead",
    "distill-logit": "it does not accept teacher logits; use distill-teacher-sft there instead",
}


def _require(platform: str, recipe: Recipe) -> None:
    if recipe.id not in AVAILABLE[platform]:
        reason = _WHY_NOT.get(recipe.id, "the method does not exist there")
        if not recipe.is_training:
            reason = "it is a playbook, not a training recipe"
        raise NotAvailable(f"{recipe.id} is not available on {platform}: {reason}", key="format")


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=2) + "\n"


def openai_job(recipe: Recipe, params: RecipeParams) -> tuple[str, list[str]]:
    """Body of POST /v1/fine_tuning/jobs, plus notes for the user."""
    _require("openai", recipe)
    notes = [
        f"Upload {params.dataset} with purpose 'fine-tune' and put the returned id in "
        f"training_file."
    ]
    model = params.base_model
    if not model.startswith(_OPENAI_PREFIXES):
        notes.append(
            f"OpenAI tunes only its own models: {model} replaced by {OPENAI_DEFAULT_MODEL}."
        )
        model = OPENAI_DEFAULT_MODEL
    if recipe.adapter == "full" or recipe.trains_adapter:
        notes.append("OpenAI chooses how the weights are adapted; LoRA or full is not selectable.")
    hyper: dict[str, Any] = {
        "n_epochs": max(1, round(params.epochs)),
        "batch_size": "auto",
        "learning_rate_multiplier": "auto",
    }
    if recipe.method == "dpo":
        hyper["beta"] = recipe.hyper["dpo_beta"]
        method: dict[str, Any] = {"type": "dpo", "dpo": {"hyperparameters": hyper}}
        notes.append(
            "DPO lines use OpenAI's layout: input.messages, preferred_output, non_preferred_output."
        )
    else:
        method = {"type": "supervised", "supervised": {"hyperparameters": hyper}}
    if params.max_steps:
        notes.append("max_steps has no equivalent on OpenAI; n_epochs is used.")
    body = {
        "model": model,
        "training_file": "file-REPLACE_WITH_UPLOADED_FILE_ID",
        "suffix": recipe.id,
        "seed": 42,
        "method": method,
    }
    return _dump(body), notes


def together_job(recipe: Recipe, params: RecipeParams) -> tuple[str, list[str]]:
    """Body of POST /v1/fine-tunes on Together (its SDK's FinetuneRequest), plus notes."""
    _require("together", recipe)
    h = recipe.hyper
    file = f"{recipe.id}.together.json"
    notes = [
        f"Upload {params.dataset} (together files upload) and put the returned id in "
        f"training_file.",
        "model must be one of Together's fine-tunable models (often the id ending in -Reference).",
        "Send the file as it is: curl -X POST https://api.together.xyz/v1/fine-tunes "
        '-H "Authorization: Bearer $TOGETHER_API_KEY" -H "Content-Type: application/json" '
        f"-d @{file}",
    ]
    body: dict[str, Any] = {
        "training_file": "file-REPLACE_WITH_UPLOADED_FILE_ID",
        "model": params.base_model,
        "suffix": recipe.id,
        "n_epochs": max(1, round(params.epochs)),
        "n_checkpoints": 1,
        "max_seq_length": params.max_length,
        "batch_size": "max",
        "learning_rate": h["learning_rate"],
        "warmup_ratio": h["warmup_ratio"],
        # Required by the request type; the trainers' own defaults, as in the other exports.
        "max_grad_norm": 1.0,
        "weight_decay": 0.0,
        "random_seed": 42,
    }
    if h["lr_scheduler_type"] in ("cosine", "linear"):
        body["lr_scheduler"] = {"lr_scheduler_type": h["lr_scheduler_type"]}
    if recipe.trains_adapter:
        body["training_type"] = {
            "type": "Lora",
            "lora_r": h["lora_r"],
            "lora_alpha": h["lora_alpha"],
            "lora_dropout": h["lora_dropout"],
            "lora_trainable_modules": "all-linear",
        }
    else:
        body["training_type"] = {"type": "Full"}
    if recipe.method == "dpo":
        body["training_method"] = {"method": "dpo", "dpo_beta": h["dpo_beta"]}
        notes.append(
            "DPO lines use Together's layout: input.messages, preferred_output, "
            "non_preferred_output."
        )
    else:
        # Loss on the answers only is `train_on_inputs: false`; "auto" would guess from the data.
        on_inputs: bool | str = False if h.get("loss_on") == "assistant" else "auto"
        body["training_method"] = {"method": "sft", "train_on_inputs": on_inputs}
    if params.max_steps:
        notes.append("max_steps has no equivalent on Together; n_epochs is used.")
    return _dump(body), notes


def _fireworks_model(base_model: str) -> str:
    """A Hugging Face id as Fireworks spells it: "p" for the dot, "v" before Llama's version."""
    if base_model.startswith("accounts/"):
        return base_model
    name = base_model.split("/")[-1].lower().replace("llama-3", "llama-v3").replace(".", "p")
    return "accounts/fireworks/models/" + name


def fireworks_job(recipe: Recipe, params: RecipeParams) -> tuple[str, list[str]]:
    """Body of a Fireworks supervised fine-tuning or DPO job (its SDK's create params)."""
    _require("fireworks", recipe)
    h = recipe.hyper
    resource = "dpoJobs" if recipe.method == "dpo" else "supervisedFineTuningJobs"
    notes = [
        f"POST https://api.fireworks.ai/v1/accounts/ACCOUNT_ID/{resource} with this body.",
        f"Create the dataset from {params.dataset} first (firectl create dataset) and name it "
        f"in dataset.",
        "baseModel must be a Fireworks model id (accounts/fireworks/models/...); Fireworks "
        "trains LoRA adapters and sets their alpha and dropout itself.",
    ]
    if params.max_steps:
        notes.append("max_steps has no equivalent on Fireworks; epochs is used.")
    training: dict[str, Any] = {
        "baseModel": _fireworks_model(params.base_model),
        "outputModel": f"accounts/ACCOUNT_ID/models/{recipe.id}",
        "epochs": max(1, round(params.epochs)),
        "learningRate": h["learning_rate"],
        "loraRank": h["lora_r"],
        "maxContextLength": params.max_length,
    }
    body: dict[str, Any] = {
        "displayName": recipe.id,
        "dataset": "accounts/ACCOUNT_ID/datasets/REPLACE_WITH_DATASET_ID",
    }
    if recipe.method == "dpo":
        # A DPO job takes its model settings in trainingConfig; without an explicit loss method
        # the preference API trains GRPO, so DPO and its beta are named.
        body |= {
            "trainingConfig": training,
            "lossConfig": {"method": "DPO", "dpo": {"beta": h["dpo_beta"]}},
        }
        notes.append("DPO lines use input.messages, preferred_output, non_preferred_output.")
    else:
        body |= training
    return _dump(body), notes
