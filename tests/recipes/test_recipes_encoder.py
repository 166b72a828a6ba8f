"""The encoder student: its script trains a tiny ModernBERT classifier on CPU, offline."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.recipes import (
    NotAvailable,
    available_formats,
    estimate,
    get_recipe,
    render,
    resolve_params,
)
from tests.support import require_module

RECIPE = get_recipe("encoder-student")
LABELS = {"refund": ("refund", "money", "back"), "shipping": ("delivery", "status", "order")}


def test_it_exports_a_script_and_its_eval_only() -> None:
    assert available_formats(RECIPE) == ["script", "eval"]
    params = resolve_params(RECIPE)
    for fmt in ("trl", "openai", "slurm"):
        with pytest.raises(NotAvailable, match="use --format script"):
            render(RECIPE, params, fmt)
    script = render(RECIPE, params, "script")
    assert script.command == "python encoder-student.train.py"
    assert "BASE_MODEL = 'answerdotai/ModernBERT-base'" in script.content
    assert "learning_rate=5e-05" in script.content and "USE_CPU = False" in script.content


def test_the_estimate_has_no_vocabulary_logits() -> None:
    e = estimate(RECIPE, resolve_params(RECIPE))
    assert any("no vocabulary logits" in note for note in e.assumptions)
    assert e.gpu.count == 1 and e.memory_gb < 24
    assert e.hours_range is not None and e.hours_range[0] < e.hours_range[1]


def _tiny_encoder(directory: Path) -> None:
    """A randomly initialised two-layer ModernBERT with the demo's tiny BPE tokenizer."""
    from transformers import ModernBertConfig, ModernBertForMaskedLM

    from app.jobs.demo import build_tokenizer

    tokenizer = build_tokenizer(directory)
    config = ModernBertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=128,
        global_attn_every_n_layers=1,
        local_attention=64,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.pad_token_id,
        cls_token_id=tokenizer.pad_token_id,
        sep_token_id=tokenizer.eos_token_id,
    )
    ModernBertForMaskedLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def _teacher_labels(path: Path, rows: int) -> None:
    """Lines a teacher could have labelled: each label has its own words."""
    rng = random.Random(3)
    lines = []
    for index in range(rows):
        label = "refund" if index % 2 else "shipping"
        words = [rng.choice(LABELS[label]) for _ in range(6)]
        lines.append({"text": " ".join(words), "label": label})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


@pytest.mark.training
def test_the_script_trains_a_tiny_classifier_on_cpu(tmp_path: Path) -> None:
    for module in ("torch", "transformers", "datasets", "accelerate", "tokenizers"):
        require_module(module)
    _tiny_encoder(tmp_path / "tiny")
    _teacher_labels(tmp_path / "labels.jsonl", 80)
    params = resolve_params(
        RECIPE,
        {
            "base_model": str(tmp_path / "tiny"),
            "params_b": "0.0001",
            "dataset": str(tmp_path / "labels.jsonl"),
            "output_dir": str(tmp_path / "out"),
            "gpu": "cpu",
            "epochs": "20",
            "max_length": "32",
        },
    )
    script = render(RECIPE, params, "script")
    # Only the learning rate is raised: a random tiny model needs bigger steps than a
    # pretrained encoder to learn two labels in seconds.
    text = script.content.replace("learning_rate=5e-05", "learning_rate=3e-3")
    (tmp_path / script.filename).write_text(text, encoding="utf-8")
    env: dict[str, Any] = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [sys.executable, script.filename],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "heldout_metrics.json").read_text())
    assert metrics["eval_accuracy"] >= 0.75, metrics
    assert 0 <= metrics["eval_macro_f1"] <= 1
    saved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert saved["architectures"] == ["ModernBertForSequenceClassification"]
    assert set(saved["label2id"]) == {"refund", "shipping"}
