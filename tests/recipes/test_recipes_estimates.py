"""Estimates against published figures, and the estimate contract."""

from __future__ import annotations

import json

import pytest

from app.recipes import NotAvailable, estimate, get_recipe, resolve_params

FIELDS = {
    "recipe",
    "memory_gb",
    "total_memory_gb",
    "gpu",
    "train_tokens",
    "train_flops",
    "hours",
    "cost_usd",
    "assumptions",
    "hours_range",
    "cost_range_usd",
}


def _estimate(recipe_id: str, **overrides: str):  # type: ignore[no-untyped-def]
    recipe = get_recipe(recipe_id)
    return estimate(recipe, resolve_params(recipe, overrides, local_files=True))


def test_fields_are_exactly_the_contract() -> None:
    data = json.loads(_estimate("sft-lora").model_dump_json())
    assert set(data) == FIELDS
    assert set(data["gpu"]) == {"type", "count", "memory_gb"}
    assert all(isinstance(s, str) and s.endswith(".") for s in data["assumptions"])


def test_8b_lora_fits_one_24gb_gpu() -> None:
    result = _estimate("sft-lora", base_model="meta-llama/Llama-3.1-8B-Instruct", params_b="8")
    assert result.total_memory_gb <= 24
    assert result.gpu.count == 1 and result.gpu.memory_gb == 24


def test_8b_qlora_fits_16gb() -> None:
    result = _estimate("sft-qlora")
    assert result.total_memory_gb <= 16


def test_8b_full_needs_several_80gb_gpus() -> None:
    for gpu in ("H100", "A100-80GB"):
        result = _estimate("sft-full", gpu=gpu)
        assert result.gpu.type == gpu and result.gpu.count >= 2
        assert result.total_memory_gb > 80
        assert result.memory_gb == pytest.approx(result.total_memory_gb / result.gpu.count, abs=0.1)
    assert _estimate("sft-full").gpu.count >= 2  # auto pick: no single GPU in the table holds it


def test_flops_time_and_cost_follow_the_formula() -> None:
    lora = _estimate("sft-lora", examples="1000", tokens_per_example="500", epochs="2", gpu="H100")
    assert lora.train_tokens == 1_000_000
    assert lora.train_flops == pytest.approx(4 * 8e9 * 1e6, rel=1e-3)
    # 3.2e16 FLOPs at 35% of 989 TFLOPS.
    assert lora.hours == pytest.approx(3.2e16 / (989e12 * 0.35) / 3600, rel=1e-2)
    full = _estimate("sft-full", examples="1000", tokens_per_example="500", epochs="2")
    assert full.train_flops == pytest.approx(6 * 8e9 * 1e6, rel=1e-3)
    priced = _estimate("sft-lora", gpu="H100", price_per_gpu_hour="10")
    assert priced.cost_usd == pytest.approx(priced.hours * 10, abs=0.01)


def test_max_steps_overrides_epochs() -> None:
    result = _estimate("sft-lora", max_steps="10", gpu="H100")
    assert result.train_tokens == 10 * 16 * 512


def test_distillation_adds_teacher_memory_and_dpo_pairs() -> None:
    student = _estimate(
        "sft-full", base_model="Qwen/Qwen2.5-1.5B-Instruct", examples="5000", epochs="1"
    )
    distill = _estimate("distill-logit")
    assert distill.total_memory_gb > student.total_memory_gb + 15  # the 7.6B teacher in bf16
    dpo = _estimate("dpo-lora", examples="100", tokens_per_example="100", epochs="1")
    assert dpo.train_tokens == 2 * 100 * 100


def test_cpu_and_playbooks() -> None:
    cpu = _estimate("sft-lora", gpu="cpu", max_steps="3")
    assert cpu.gpu.type == "cpu" and cpu.cost_usd == 0
    with pytest.raises(NotAvailable, match="playbook"):
        _estimate("rag-index")


def test_local_config_sets_the_shape(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = {
        "hidden_size": 2048,
        "num_hidden_layers": 16,
        "intermediate_size": 8192,
        "vocab_size": 128256,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "tie_word_embeddings": True,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = _estimate("sft-lora", base_model=str(tmp_path))
    assert any("config.json" in a for a in result.assumptions)
    assert result.total_memory_gb < 12  # a ~1.2B model


def test_the_range_counts_recomputation_and_a_realistic_mfu() -> None:
    """Low end: one more forward pass (2 x N x tokens) at the best MFU; high end at the worst."""
    from app.recipes.hardware import load_hardware

    cal = load_hardware().calibration
    lora = _estimate("sft-lora", gpu="H100", examples="1000", tokens_per_example="1000", epochs="1")
    flops = (4 + cal.recompute_forward_flops) * 8e9 * 1e6
    assert lora.hours_range is not None and lora.cost_range_usd is not None
    low, high = lora.hours_range
    assert low == pytest.approx(flops / (989e12 * cal.mfu_high["lora"]) / 3600, rel=1e-3)
    assert high == pytest.approx(flops / (989e12 * cal.mfu_low["lora"]) / 3600, rel=1e-3)
    assert low < high and lora.hours < low  # the old point had no recomputation
    assert lora.cost_range_usd[1] == pytest.approx(high * 2.80, abs=0.01)
    assert any("arxiv.org" in source for source in cal.sources)
