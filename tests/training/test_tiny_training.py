"""A real tiny training run: offline model and tokenizer, rendered TRL configs, trl CLI on CPU."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from app.recipes import get_recipe, render, resolve_params
from tests.support import require_module

pytestmark = pytest.mark.training

# Assistant turns sit inside {% generation %} markers so TRL can mask the loss to answers;
# the end-of-turn token is inside them so the model learns to stop.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}"
    "{% endgeneration %}{{ '\\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)
SPECIALS = ["<|pad|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]
WORDS = [
    *("invoice", "refund", "order", "shipping", "account", "password", "reset", "delivery"),
    *("status", "label", "customer", "agent", "polite", "answer", "question", "please"),
    *("thanks", "date", "number", "total", "error"),
]


def _sentence(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _build_tokenizer(directory: Path) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = [_sentence(rng, 12) for _ in range(2000)]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<|pad|>",
        eos_token="<|im_end|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>", "<|endoftext|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(directory)
    return fast


def _build_model(directory: Path, tokenizer: Any, hidden: int) -> int:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=False,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return sum(p.numel() for p in model.parameters())


def _write_datasets(directory: Path) -> dict[str, Path]:
    rng = random.Random(1)
    sft, dpo, prompts = [], [], []
    for _ in range(50):
        question, answer = _sentence(rng, 6), _sentence(rng, 5)
        sft.append(
            {
                "messages": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer},
                ]
            }
        )
        dpo.append({"prompt": question, "chosen": answer, "rejected": _sentence(rng, 5)})
        prompts.append({"prompt": [{"role": "user", "content": question}]})
    paths = {}
    for name, rows in (("sft", sft), ("dpo", dpo), ("distill", prompts)):
        path = directory / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        paths[name] = path
    return paths


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
    tokenizer = _build_tokenizer(root / "tokenizer")
    sizes = {
        "student": _build_model(root / "student", tokenizer, hidden=96),
        "teacher": _build_model(root / "teacher", tokenizer, hidden=128),
    }
    return {"root": root, "sizes": sizes, "data": _write_datasets(root)}


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
