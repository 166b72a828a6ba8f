"""Recipe parameters: contract keys, defaults, validation, config.json sizes, profile mapping."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from app.recipes.catalog import Recipe
from app.recipes.errors import BadValue, UnknownKey
from app.recipes.hardware import gpu_names
from app.recipes.prices import load_prices

PARAM_KEYS: tuple[str, ...] = (
    "base_model",
    "params_b",
    "dataset",
    "examples",
    "tokens_per_example",
    "epochs",
    "max_steps",
    "max_length",
    "gpu",
    "price_per_gpu_hour",
    "teacher_model",
    "teacher_params_b",
    "output_dir",
)

# Used where a recipe (e.g. a playbook) sets no default of its own.
GLOBAL_DEFAULTS: dict[str, Any] = {
    "base_model": "meta-llama/Llama-3.1-8B-Instruct",
    "params_b": 8.0,
    "dataset": "data/train.jsonl",
    "examples": 1000,
    "tokens_per_example": 512,
    "epochs": 3,
    "max_steps": None,
    "max_length": 2048,
    "gpu": "auto",
    "price_per_gpu_hour": None,
    "teacher_model": None,
    "teacher_params_b": None,
    "output_dir": "outputs/run",
}

_NONE_WORDS = {"", "none", "null", "auto"}


class RecipeParams(BaseModel):
    """Fully resolved, validated parameters of one recipe run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_model: str
    params_b: float
    dataset: str
    examples: int
    tokens_per_example: int
    epochs: float
    max_steps: int | None
    max_length: int
    gpu: str
    price_per_gpu_hour: float | None
    teacher_model: str | None
    teacher_params_b: float | None
    output_dir: str
    params_source: str = "given"  # where params_b came from: given, default, config.json, name
    config_json: dict[str, Any] | None = None  # the local model's config, when one was read


def _bad(key: str, value: Any, expected: str) -> BadValue:
    return BadValue(f"{key}: expected {expected}, got {value!r}", key=key)


def _as_int(key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise _bad(key, value, f"an integer from {lo} to {hi}")
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        number = None
    if number is None or not lo <= number <= hi:
        raise _bad(key, value, f"an integer from {lo} to {hi}")
    return number


def _as_float(key: str, value: Any, lo: float, hi: float, *, lo_open: bool = True) -> float:
    if isinstance(value, bool):
        raise _bad(key, value, f"a number in ({lo}, {hi}]")
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    ok = math.isfinite(number) and (number > lo if lo_open else number >= lo) and number <= hi
    if not ok:
        raise _bad(key, value, f"a number in {'(' if lo_open else '['}{lo}, {hi}]")
    return number


def _as_text(key: str, value: Any, *, path: bool = False) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 500 or "\n" in value:
        raise _bad(key, value, "a non-empty single-line string")
    if path and ".." in Path(value).parts:
        raise _bad(key, value, "a path without '..'")
    return value.strip()


def _optional(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS)


def _coerce(key: str, value: Any) -> Any:
    """Validate one raw value (a string from the CLI or a query, or a JSON value)."""
    if key in ("base_model", "dataset", "output_dir"):
        return _as_text(key, value, path=key != "base_model")
    if key == "teacher_model":
        return None if _optional(value) else _as_text(key, value)
    if key in ("params_b", "teacher_params_b"):
        if key == "teacher_params_b" and _optional(value):
            return None
        return _as_float(key, value, 0.0, 2000.0)
    if key == "examples":
        return _as_int(key, value, 1, 100_000_000)
    if key == "tokens_per_example":
        return _as_int(key, value, 1, 1_048_576)
    if key == "max_length":
        return _as_int(key, value, 16, 1_048_576)
    if key == "max_steps":
        return None if _optional(value) else _as_int(key, value, 1, 10_000_000)
    if key == "epochs":
        return _as_float(key, value, 0.0, 100.0)
    if key == "price_per_gpu_hour":
        return None if _optional(value) else _as_float(key, value, 0.0, 10_000.0, lo_open=False)
    if key == "gpu":
        names = gpu_names()
        for name in names:
            if isinstance(value, str) and value.strip().lower() == name.lower():
                return name
        raise BadValue(f"gpu: expected one of {', '.join(names)}, got {value!r}", key="gpu")
    raise UnknownKey(f"unknown parameter {key!r}; allowed: {', '.join(PARAM_KEYS)}", key=key)


def check_keys(keys: Iterable[str]) -> None:
    """Raise UnknownKey for the first key that is not a parameter key."""
    for key in keys:
        if key not in PARAM_KEYS:
            raise UnknownKey(
                f"unknown parameter {key!r}; allowed: {', '.join(PARAM_KEYS)}", key=key
            )


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Turn ["key=value", ...] (the CLI's --set) into a dict, checking every key."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadValue(f"--set expects KEY=VALUE, got {item!r}", key=key or item)
        check_keys([key])
        out[key] = value
    return out


def params_from_config(config: Mapping[str, Any]) -> float:
    """Parameter count in billions computed from a transformers config.json (decoder-only)."""
    cfg = config.get("text_config") or config
    try:
        h = int(cfg["hidden_size"])
        layers = int(cfg["num_hidden_layers"])
        inter = int(cfg.get("intermediate_size") or 4 * h)
        vocab = int(cfg["vocab_size"])
        heads = int(cfg["num_attention_heads"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadValue(f"params_b: config.json lacks a usable {exc} field", key="params_b") from exc
    kv_heads = int(cfg.get("num_key_value_heads") or heads)
    head_dim = int(cfg.get("head_dim") or h // heads)
    attention = h * heads * head_dim * 2 + h * kv_heads * head_dim * 2  # q, o and k, v
    # Gated MLPs (SwiGLU: gate, up, down) have three matrices; classic GELU MLPs have two.
    plain_mlp = str(cfg.get("model_type", "")) in {
        "gpt2",
        "gpt_neox",
        "opt",
        "bloom",
        "falcon",
        "phi",
    }
    experts = int(cfg.get("num_local_experts") or cfg.get("num_experts") or 1)
    mlp = (2 if plain_mlp else 3) * h * inter * experts
    norms = 2 * h
    embeddings = vocab * h * (1 if cfg.get("tie_word_embeddings", True) else 2)
    return (layers * (attention + mlp + norms) + embeddings + h) / 1e9


def read_local_config(base_model: str) -> dict[str, Any] | None:
    """The config.json of a local model directory (or the file itself), or None if not local."""
    path = Path(base_model).expanduser()
    candidate = path if path.name == "config.json" else path / "config.json"
    if not candidate.is_file():
        return None
    try:
        data = json.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadValue(f"base_model: cannot read {candidate}: {exc}", key="base_model") from exc
    if not isinstance(data, dict):
        raise BadValue(f"base_model: {candidate} is not a JSON object", key="base_model")
    return data


_SIZE_IN_NAME = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)[bB](?![a-zA-Z])")


def params_from_name(model: str) -> float | None:
    """A size like '8B' or '0.5B' written in a model id, in billions, or None."""
    sizes = [float(m) for m in _SIZE_IN_NAME.findall(model.split("/")[-1])]
    return max(sizes) if sizes else None


def resolve_params(
    recipe: Recipe,
    overrides: Mapping[str, Any] | None = None,
    *,
    base: Mapping[str, Any] | None = None,
    local_files: bool = False,
) -> RecipeParams:
    """Defaults of the recipe, then `base` (e.g. from a profile), then `overrides`, validated.

    `local_files`: read a local model's config.json when base_model or teacher_model is a
    path. Only the CLI does: a web request must not probe the server's files.
    """
    layers = [dict(base or {}), dict(overrides or {})]
    for index, layer in enumerate(layers):
        check_keys(layer)
        # An empty form field or `--set key=` means "keep the default", not an invalid value.
        layers[index] = {
            k: v for k, v in layer.items() if not (isinstance(v, str) and not v.strip())
        }
    base_layer, user_layer = layers
    if "base_model" in user_layer and "params_b" not in user_layer:
        base_layer.pop("params_b", None)  # a size from `base` belongs to its model, not this one
    merged: dict[str, Any] = {**GLOBAL_DEFAULTS, **recipe.defaults}
    given: set[str] = set()
    for layer in layers:
        for key, raw in layer.items():
            merged[key] = _coerce(key, raw)
            given.add(key)
    for key in PARAM_KEYS:
        if key not in given and merged[key] is not None:
            merged[key] = _coerce(key, merged[key])

    source = "given" if "params_b" in given else "default"
    config = read_local_config(merged["base_model"]) if local_files else None
    if config is not None and "params_b" not in given:
        merged["params_b"], source = params_from_config(config), "config.json"
    elif "params_b" not in given and merged["base_model"] != recipe.defaults.get("base_model"):
        guessed = params_from_name(merged["base_model"])
        if guessed is None:
            where = "no local config.json, " if local_files else ""
            raise BadValue(
                f"params_b: cannot tell the size of {merged['base_model']!r} ({where}no size "
                "in its name); set params_b",
                key="params_b",
            )
        merged["params_b"], source = guessed, "name"

    if (
        "teacher_params_b" not in given
        and merged["teacher_model"]
        and (merged["teacher_model"] != recipe.defaults.get("teacher_model"))
    ):
        teacher_cfg = read_local_config(merged["teacher_model"]) if local_files else None
        merged["teacher_params_b"] = (
            params_from_config(teacher_cfg)
            if teacher_cfg
            else params_from_name(merged["teacher_model"])
        )
    if recipe.method == "distillation" and not (
        merged["teacher_model"] and merged["teacher_params_b"]
    ):
        raise BadValue(
            "teacher_model: logit distillation needs teacher_model and teacher_params_b",
            key="teacher_model",
        )
    return RecipeParams(**merged, params_source=source, config_json=config)


# Decision-profile values -> parameter defaults (see app/decision/profile.py).
_PROFILE_GPU = {
    "none": "auto",
    "consumer_24gb": "L4",
    "datacenter_80gb": "A100-80GB",
    "multi_gpu": "H100",
}
_TASK_TOKENS = {
    "extraction_classification": (256, 1024),
    "question_answering": (512, 2048),
    "generation": (768, 2048),
    "conversation": (1024, 4096),
    "code": (1024, 4096),
    "reasoning": (1536, 4096),
}


def params_from_profile(profile: Any) -> dict[str, Any]:
    """Parameter overrides implied by a decision profile (a Profile or a plain dict)."""
    data: Mapping[str, Any] = profile if isinstance(profile, Mapping) else profile.model_dump()
    out: dict[str, Any] = {}
    examples = data.get("labeled_examples")
    if isinstance(examples, int) and examples > 0:
        out["examples"] = examples
    gpu = data.get("gpu")
    if gpu in _PROFILE_GPU:
        out["gpu"] = _PROFILE_GPU[gpu]
    task = data.get("task_kind")
    if task in _TASK_TOKENS:
        out["tokens_per_example"], out["max_length"] = _TASK_TOKENS[task]
    prompt = data.get("prompt_tokens")
    if isinstance(prompt, int) and prompt > 0:
        # A training example is the request without the instructions a tuned model no longer
        # needs, plus the answer: the same shares the cost table assumes (data/prices.toml).
        prices = load_prices()
        answer = prices.output_tokens.get(str(task), prices.assumptions.output_tokens)
        tokens = max(16, round(prompt * prices.assumptions.tuned_prompt_share) + answer)
        out["tokens_per_example"] = tokens
        out["max_length"] = max(out.get("max_length", 512), 1 << (tokens - 1).bit_length())
    if data.get("deployment") == "on_device":
        # On-device students must be small; 1.5B runs on recent phones and laptops.
        out["base_model"], out["params_b"] = "Qwen/Qwen2.5-1.5B-Instruct", 1.5
    return out
