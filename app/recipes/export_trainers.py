"""Exporters for the open-source trainers: TRL CLI YAML, Axolotl YAML and LLaMA-Factory YAML."""

from __future__ import annotations

import json
from typing import Any

from app.recipes.catalog import Recipe, load_catalog
from app.recipes.convert import converted_path, llamafactory_name
from app.recipes.errors import BadValue, NotAvailable
from app.recipes.params import RecipeParams
from app.recipes.yamlout import emit


def _header(
    recipe: Recipe, params: RecipeParams, run: str, convert: str | None = None
) -> list[str]:
    """Comment lines naming the recipe, the command that runs the file and the data it expects."""
    lines = [
        f"{recipe.title}: recipe {recipe.id} (catalog {load_catalog().version}), by Adaptation "
        f"Advisor.",
        f"Run: {run}",
        f"Data: {recipe.dataset_format}",
    ]
    if convert:
        lines.append(f"First write it in this tool's layout: {convert}")
    if recipe.id.startswith("distill") and recipe.method == "sft" and params.teacher_model:
        lines.append(
            f"Teacher: {params.teacher_model} answers your prompts first; train on its answers."
        )
    return lines


def _explain(pairs: dict[str, str]) -> dict[str, str]:
    """Trainer key -> one-line explanation, looked up under the catalog's neutral name."""
    explain = load_catalog().explain
    return {key: explain[name] for key, name in pairs.items() if name in explain}


def _check_cpu(recipe: Recipe, params: RecipeParams) -> bool:
    cpu = params.gpu == "cpu"
    if cpu and recipe.adapter == "qlora":
        raise BadValue(
            "gpu: cpu is not possible for sft-qlora (4-bit loading needs a CUDA GPU)", key="gpu"
        )
    return cpu


def _trl_command(recipe: Recipe) -> str:
    """The `trl` subcommand that trains this recipe: its method's name."""
    return recipe.method or "sft"


def uses_deepspeed(recipe: Recipe, params: RecipeParams) -> bool:
    """True when the Axolotl and LLaMA-Factory exports shard with the rendered DeepSpeed file."""
    return recipe.adapter == "full" and recipe.method == "sft" and params.gpu != "cpu"


def deepspeed_file(recipe: Recipe) -> str:
    """The DeepSpeed config's file name, which the trainer configs name by this relative path."""
    return f"{recipe.id}.deepspeed.json"


def run_command(recipe: Recipe, fmt: str, params: RecipeParams | None = None) -> str:
    """The shell command that runs the exported file of one trainer format."""
    file = f"{recipe.id}.{fmt}.yaml"
    # LLaMA-Factory launches DeepSpeed through torchrun only on several GPUs unless forced.
    forced = "FORCE_TORCHRUN=1 " if params is not None and uses_deepspeed(recipe, params) else ""
    return {
        "trl": f"trl {_trl_command(recipe)} --config {file}",
        "axolotl": f"axolotl train {file}",
        "llamafactory": f"{forced}llamafactory-cli train {file}",
    }[fmt]


def convert_command(recipe: Recipe, params: RecipeParams, tool: str) -> str:
    """The command that writes the dataset in a trainer's own layout (and its index files)."""
    method = "dpo" if recipe.method == "dpo" else "sft"
    return f"advisor dataset convert {params.dataset} --to {tool} --method {method}"


def deepspeed_json(recipe: Recipe, params: RecipeParams) -> str:
    """DeepSpeed ZeRO-3 config for full fine-tuning; "auto" values come from the trainer's args."""
    if recipe.adapter != "full" or recipe.method != "sft":
        raise NotAvailable(
            f"{recipe.id} is not available for deepspeed: only full supervised fine-tuning "
            "(sft-full) shards with DeepSpeed in the Axolotl and LLaMA-Factory exports",
            key="format",
        )
    config = {
        "bf16": {"enabled": "auto"},
        "fp16": {"enabled": "auto"},
        "zero_optimization": {
            "stage": 3,
            "overlap_comm": True,
            "contiguous_gradients": True,
            "reduce_bucket_size": "auto",
            "stage3_prefetch_bucket_size": "auto",
            "stage3_param_persistence_threshold": "auto",
            "stage3_max_live_parameters": 1_000_000_000,
            "stage3_max_reuse_distance": 1_000_000_000,
            "stage3_gather_16bit_weights_on_model_save": True,
        },
        "gradient_accumulation_steps": "auto",
        "gradient_clipping": "auto",
        "train_batch_size": "auto",
        "train_micro_batch_size_per_gpu": "auto",
        "steps_per_print": 10,
        "wall_clock_breakdown": False,
    }
    return json.dumps(config, indent=2) + "\n"


# Which catalog explanation comments each shared training argument in the TRL exports.
TRAINING_ARG_EXPLAIN: dict[str, str] = {
    "output_dir": "output_dir",
    "num_train_epochs": "epochs",
    "max_steps": "max_steps",
    "per_device_train_batch_size": "per_device_train_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "learning_rate": "learning_rate",
    "lr_scheduler_type": "lr_scheduler_type",
    "warmup_steps": "warmup_ratio",
    "gradient_checkpointing": "gradient_checkpointing",
}


def trl_training_args(params: RecipeParams, h: dict[str, Any], *, cpu: bool) -> dict[str, Any]:
    """The TrainingArguments every TRL export shares (epochs, steps, batch, schedule, logging)."""
    train: dict[str, Any] = {"output_dir": params.output_dir, "num_train_epochs": params.epochs}
    if params.max_steps:
        train["max_steps"] = params.max_steps
    train |= {
        "per_device_train_batch_size": h["per_device_train_batch_size"],
        "gradient_accumulation_steps": h["gradient_accumulation_steps"],
        "learning_rate": h["learning_rate"],
        "lr_scheduler_type": h["lr_scheduler_type"],
        "warmup_steps": h["warmup_ratio"],
        "gradient_checkpointing": h["gradient_checkpointing"] and not cpu,
        "bf16": not cpu,
    }
    if cpu:
        train["use_cpu"] = True
    train |= {
        "logging_steps": 1 if cpu else 10,
        "save_strategy": "epoch",
        "report_to": "none",
        "seed": 42,
    }
    return train


def trl_yaml(recipe: Recipe, params: RecipeParams) -> str:
    """TRL CLI config: runs as `trl sft|dpo|distillation --config FILE` (TRL 1.x names)."""
    cpu = _check_cpu(recipe, params)
    h = recipe.hyper
    model: dict[str, Any] = {
        "model_name_or_path": params.base_model,
        "dtype": "float32" if cpu else "bfloat16",
    }
    if recipe.trains_adapter:
        model |= {
            "use_peft": True,
            "lora_r": h["lora_r"],
            "lora_alpha": h["lora_alpha"],
            "lora_dropout": h["lora_dropout"],
            "lora_target_modules": h["lora_target"],
        }
    if recipe.adapter == "qlora":
        model |= {
            "load_in_4bit": True,
            "bnb_4bit_quant_type": h["quantization"],
            "use_bnb_nested_quant": h["double_quant"],
        }
    if recipe.method == "distillation":
        model |= {"teacher_model_name_or_path": params.teacher_model}

    data: dict[str, Any] = {
        "datasets": [{"path": "json", "data_files": params.dataset, "split": "train"}],
    }
    if recipe.method != "distillation":
        data["max_length"] = params.max_length
    if recipe.method == "sft":
        data |= {"packing": h["packing"], "assistant_only_loss": h["loss_on"] == "assistant"}
    if recipe.method == "dpo":
        data["beta"] = h["dpo_beta"]
    if recipe.method == "distillation":
        data |= {
            "max_completion_length": h["max_completion_length"],
            "temperature": h["temperature"],
            "beta": h["divergence_beta"],
        }

    train = trl_training_args(params, h, cpu=cpu)
    if recipe.adapter == "full" and recipe.method == "sft" and not cpu:
        train["accelerate_config"] = h["sharding"]

    comments = _explain(
        {
            "model_name_or_path": "base_model",
            "lora_r": "lora_r",
            "lora_alpha": "lora_alpha",
            "lora_dropout": "lora_dropout",
            "lora_target_modules": "lora_target",
            "load_in_4bit": "quantization",
            "use_bnb_nested_quant": "double_quant",
            "teacher_model_name_or_path": "teacher_model",
            "max_length": "max_length",
            "packing": "packing",
            "assistant_only_loss": "loss_on",
            "max_completion_length": "max_completion_length",
            "temperature": "temperature",
            **TRAINING_ARG_EXPLAIN,
            "accelerate_config": "sharding",
            "beta": "dpo_beta" if recipe.method == "dpo" else "divergence_beta",
        }
    )
    comments["datasets"] = "Local JSONL loaded with the datasets `json` builder."
    if cpu:
        comments["use_cpu"] = "Local CPU run: no CUDA, so no bf16 (float32 weights)."
    header = _header(recipe, params, run_command(recipe, "trl"))
    if recipe.method == "distillation":
        header.append(
            "Teacher and student must share a tokenizer: logits are compared token by token."
        )
    return emit(
        [("model", model), ("data", data), ("training", train)], header=header, comments=comments
    )


def _axolotl_dataset(recipe: Recipe, params: RecipeParams) -> dict[str, Any]:
    """The converted file's entry: chat messages for SFT, message-list pairs for DPO."""
    entry: dict[str, Any] = {"path": converted_path(params.dataset, "axolotl"), "ds_type": "json"}
    if recipe.method == "dpo":
        # chat_template.default renders prompt, chosen and rejected with the model's template.
        return entry | {
            "split": "train",
            "type": "chat_template.default",
            "field_messages": "prompt",
            "field_chosen": "chosen",
            "field_rejected": "rejected",
        }
    return entry | {
        "type": "chat_template",
        "field_messages": "messages",
        "roles_to_train": ["assistant"],
    }


def axolotl_yaml(recipe: Recipe, params: RecipeParams) -> str:
    """Axolotl config: runs as `axolotl train FILE`."""
    if recipe.method == "distillation":
        raise NotAvailable(
            f"{recipe.id} is not available for axolotl: its knowledge distillation needs "
            f"pre-computed "
            "teacher log-probabilities; use --format trl",
            key="format",
        )
    cpu = _check_cpu(recipe, params)
    h = recipe.hyper
    model: dict[str, Any] = {"base_model": params.base_model}
    if recipe.adapter == "qlora":
        model["load_in_4bit"] = True
    if recipe.trains_adapter:
        model |= {
            "adapter": recipe.adapter,
            "lora_r": h["lora_r"],
            "lora_alpha": h["lora_alpha"],
            "lora_dropout": h["lora_dropout"],
            "lora_target_linear": True,
        }
    data: dict[str, Any] = {}
    if recipe.method == "dpo":
        data |= {"rl": "dpo", "rl_beta": h["dpo_beta"]}
    data["chat_template"] = "tokenizer_default"
    data |= {
        "datasets": [_axolotl_dataset(recipe, params)],
        "val_set_size": 0.1,
        "sequence_len": params.max_length,
        "sample_packing": bool(h.get("packing", False)),
    }
    train: dict[str, Any] = {"output_dir": params.output_dir, "num_epochs": params.epochs}
    if params.max_steps:
        train["max_steps"] = params.max_steps
    train |= {
        "micro_batch_size": h["per_device_train_batch_size"],
        "gradient_accumulation_steps": h["gradient_accumulation_steps"],
        "learning_rate": h["learning_rate"],
        "lr_scheduler": h["lr_scheduler_type"],
        "warmup_ratio": h["warmup_ratio"],
        "optimizer": "paged_adamw_8bit" if recipe.adapter == "qlora" else "adamw_torch_fused",
        "bf16": False if cpu else "auto",
        "gradient_checkpointing": h["gradient_checkpointing"] and not cpu,
        "logging_steps": 10,
        "saves_per_epoch": 1,
    }
    if uses_deepspeed(recipe, params):
        train["deepspeed"] = deepspeed_file(recipe)
    comments = _explain(
        {
            "base_model": "base_model",
            "load_in_4bit": "quantization",
            "lora_r": "lora_r",
            "lora_alpha": "lora_alpha",
            "lora_dropout": "lora_dropout",
            "lora_target_linear": "lora_target",
            "rl_beta": "dpo_beta",
            "sequence_len": "max_length",
            "sample_packing": "packing",
            "num_epochs": "epochs",
            "max_steps": "max_steps",
            "micro_batch_size": "per_device_train_batch_size",
            "gradient_accumulation_steps": "gradient_accumulation_steps",
            "learning_rate": "learning_rate",
            "lr_scheduler": "lr_scheduler_type",
            "warmup_ratio": "warmup_ratio",
            "gradient_checkpointing": "gradient_checkpointing",
            "deepspeed": "sharding",
            "output_dir": "output_dir",
        }
    )
    comments["val_set_size"] = "Held-out share of the data for eval loss during training."
    if "deepspeed" in train:
        comments["deepspeed"] = "ZeRO-3 config: the deepspeed export, saved beside this file."
    header = _header(
        recipe,
        params,
        run_command(recipe, "axolotl", params),
        convert_command(recipe, params, "axolotl"),
    )
    return emit(
        [("model", model), ("data", data), ("training", train)], header=header, comments=comments
    )


# LLaMA-Factory needs its prompt template by name; matched on the model id.
_LF_TEMPLATES = (
    ("llama-3", "llama3"),
    ("qwen3", "qwen3"),
    ("qwen", "qwen"),
    ("mistral", "mistral"),
    ("gemma", "gemma"),
    ("phi-3", "phi"),
    ("phi-4", "phi4"),
    ("deepseek", "deepseek3"),
)


def llamafactory_template(base_model: str) -> str:
    """LLaMA-Factory `template` name for a model id ("default" when the family is unknown)."""
    lowered = base_model.lower()
    return next((t for pattern, t in _LF_TEMPLATES if pattern in lowered), "default")


def llamafactory_yaml(recipe: Recipe, params: RecipeParams) -> str:
    """LLaMA-Factory config: runs as `llamafactory-cli train FILE` (plus a dataset_info entry)."""
    if recipe.method == "distillation":
        raise NotAvailable(
            f"{recipe.id} is not available for llamafactory: it has no logit distillation; "
            "use --format trl",
            key="format",
        )
    cpu = _check_cpu(recipe, params)
    h = recipe.hyper
    model: dict[str, Any] = {"model_name_or_path": params.base_model}
    if recipe.adapter == "qlora":
        model |= {
            "quantization_bit": 4,
            "quantization_method": "bnb",
            "double_quantization": h["double_quant"],
        }
    method: dict[str, Any] = {
        "stage": recipe.method,
        "do_train": True,
        "finetuning_type": "full" if recipe.adapter == "full" else "lora",
    }
    if recipe.trains_adapter:
        method |= {
            "lora_rank": h["lora_r"],
            "lora_alpha": h["lora_alpha"],
            "lora_dropout": h["lora_dropout"],
            "lora_target": "all",
        }
    if recipe.method == "dpo":
        method |= {"pref_beta": h["dpo_beta"], "pref_loss": "sigmoid"}
    if uses_deepspeed(recipe, params):
        method["deepspeed"] = deepspeed_file(recipe)
    name = llamafactory_name(recipe.method or "sft")
    data = {
        "dataset": name,
        "dataset_dir": converted_path(params.dataset, "llamafactory").rsplit("/", 1)[0],
        "template": llamafactory_template(params.base_model),
        "cutoff_len": params.max_length,
        "val_size": 0.1,
        "preprocessing_num_workers": 8,
    }
    train: dict[str, Any] = {"output_dir": params.output_dir, "num_train_epochs": params.epochs}
    if params.max_steps:
        train["max_steps"] = params.max_steps
    train |= {
        "per_device_train_batch_size": h["per_device_train_batch_size"],
        "gradient_accumulation_steps": h["gradient_accumulation_steps"],
        "learning_rate": h["learning_rate"],
        "lr_scheduler_type": h["lr_scheduler_type"],
        # transformers 5 reads a warmup_steps below 1 as a share of the steps (warmup_ratio is
        # deprecated); LLaMA-Factory 0.9.5 installs transformers 5.
        "warmup_steps": h["warmup_ratio"],
        "bf16": not cpu,
        "gradient_checkpointing": h["gradient_checkpointing"] and not cpu,
        "logging_steps": 10,
        "save_strategy": "epoch",
        "plot_loss": True,
        "report_to": "none",
    }
    if cpu:
        train["use_cpu"] = True
    header = _header(
        recipe,
        params,
        run_command(recipe, "llamafactory", params),
        convert_command(recipe, params, "llamafactory") + " (also writes dataset_info.json)",
    )
    comments = _explain(
        {
            "model_name_or_path": "base_model",
            "quantization_bit": "quantization",
            "double_quantization": "double_quant",
            "lora_rank": "lora_r",
            "lora_alpha": "lora_alpha",
            "lora_dropout": "lora_dropout",
            "lora_target": "lora_target",
            "pref_beta": "dpo_beta",
            "deepspeed": "sharding",
            "cutoff_len": "max_length",
            "num_train_epochs": "epochs",
            "max_steps": "max_steps",
            "per_device_train_batch_size": "per_device_train_batch_size",
            "gradient_accumulation_steps": "gradient_accumulation_steps",
            "learning_rate": "learning_rate",
            "lr_scheduler_type": "lr_scheduler_type",
            "warmup_steps": "warmup_ratio",
            "gradient_checkpointing": "gradient_checkpointing",
            "output_dir": "output_dir",
        }
    )
    if "deepspeed" in method:
        comments["deepspeed"] = "ZeRO-3 config: the deepspeed export, saved beside this file."
    comments["dataset_dir"] = "Written by the convert command above, with its dataset_info.json."
    comments["template"] = (
        "LLaMA-Factory prompt template matching the model family; check it for your model."
    )
    return emit(
        [("model", model), ("method", method), ("dataset", data), ("train", train)],
        header=header,
        comments=comments,
    )
