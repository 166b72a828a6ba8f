"""GPU memory, hardware pick, FLOPs, time and cost of a training recipe, with stated assumptions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from app.recipes.catalog import Recipe
from app.recipes.errors import NotAvailable
from app.recipes.hardware import GpuType, Hardware, load_hardware
from app.recipes.params import RecipeParams

# Share of a GPU's nominal memory a run can count on (allocator reserve, fragmentation).
USABLE_SHARE = 0.9


class GpuPick(BaseModel):
    """The GPU type and count chosen for the run."""

    model_config = ConfigDict(frozen=True)

    type: str
    count: int
    memory_gb: float


class Estimate(BaseModel):
    """The estimate JSON of the contract."""

    model_config = ConfigDict(frozen=True)

    recipe: str
    memory_gb: float
    total_memory_gb: float
    gpu: GpuPick
    train_tokens: int
    train_flops: float
    hours: float
    cost_usd: float
    assumptions: list[str]
    # Added: the calibrated range (recomputation included, MFU range at micro-batch 1), low-high.
    hours_range: tuple[float, float] | None = None
    cost_range_usd: tuple[float, float] | None = None


class _Shape(BaseModel):
    hidden: int
    layers: int
    vocab: int
    intermediate: int
    kv_dim: int
    q_dim: int
    source: str


def _shape(params: RecipeParams, hw: Hardware) -> _Shape:
    cfg: dict[str, Any] | None = params.config_json
    if cfg:
        cfg = cfg.get("text_config") or cfg
        try:
            h, heads = int(cfg["hidden_size"]), int(cfg["num_attention_heads"])
            head_dim = int(cfg.get("head_dim") or h // heads)
            return _Shape(
                hidden=h,
                layers=int(cfg["num_hidden_layers"]),
                vocab=int(cfg["vocab_size"]),
                intermediate=int(cfg.get("intermediate_size") or 4 * h),
                kv_dim=int(cfg.get("num_key_value_heads") or heads) * head_dim,
                q_dim=heads * head_dim,
                source="the model's config.json",
            )
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            pass
    ref = hw.nearest_shape(params.params_b)
    # Typical modern ratios: MLP 3.5x hidden, grouped-query attention with a quarter of the heads.
    return _Shape(
        hidden=ref.hidden,
        layers=ref.layers,
        vocab=ref.vocab,
        intermediate=int(3.5 * ref.hidden),
        kv_dim=ref.hidden // 4,
        q_dim=ref.hidden,
        source=f"the reference {ref.params_b:g}B shape (hidden {ref.hidden}, {ref.layers} layers, "
        f"vocab {ref.vocab})",
    )


def lora_trainable(shape: _Shape, rank: int) -> int:
    """Adapter parameters for LoRA on every linear layer: rank x (in + out) per matrix."""
    h, i = shape.hidden, shape.intermediate
    per_layer = (h + shape.q_dim) * 2 + (h + shape.kv_dim) * 2 + (h + i) * 3
    return rank * per_layer * shape.layers


def _pick(total_gb: float, params: RecipeParams, hw: Hardware) -> tuple[GpuType | None, int, bool]:
    """Smallest GPU count, then smallest type, whose usable memory holds the even share."""
    if params.gpu == "cpu":
        return None, 1, True
    fixed = hw.gpu(params.gpu) if params.gpu != "auto" else None
    candidates = (
        [fixed] if fixed else sorted(hw.gpus, key=lambda g: (g.memory_gb, g.price_per_hour))
    )
    for count in hw.counts:
        for gpu in candidates:
            if total_gb / count <= gpu.memory_gb * USABLE_SHARE:
                return gpu, count, True
    return candidates[-1], hw.counts[-1], False


def estimate(recipe: Recipe, params: RecipeParams) -> Estimate:
    """Memory per GPU and total, the GPU pick, training tokens and FLOPs, hours and cost."""
    if not recipe.is_training:
        raise NotAvailable(
            f"{recipe.id} is a playbook: there is no training run to estimate", key="recipe"
        )
    hw, h = load_hardware(), recipe.hyper
    method = recipe.adapter or "full"
    n = params.params_b * 1e9
    shape = _shape(params, hw)
    notes: list[str] = []

    weights = n * hw.bytes_per_param[method]
    notes.append(
        {
            "full": "Full fine-tuning with mixed-precision AdamW: 16 bytes per parameter (bf16 "
            "weights and "
            "gradients, fp32 master weights, two fp32 Adam moments).",
            "lora": "LoRA: the frozen base in bf16 takes 2 bytes per parameter.",
            "qlora": "QLoRA: the frozen base in 4-bit nf4 with double quantisation takes about "
            "0.55 bytes per parameter.",
        }[method]
    )
    adapter = 0.0
    if recipe.trains_adapter:
        trainable = lora_trainable(shape, int(h["lora_r"]))
        adapter = trainable * hw.overhead.adapter_bytes_per_param
        notes.append(
            f"LoRA rank {h['lora_r']} on all linear layers trains {trainable / 1e6:.1f}M "
            f"parameters "
            "(fp32 weights, gradients and Adam moments)."
        )
    seqs = int(h["per_device_train_batch_size"]) * (2 if recipe.method == "dpo" else 1)
    tokens = seqs * params.max_length
    o = hw.overhead
    if h.get("gradient_checkpointing", True):
        acts = (
            o.checkpoint_bytes * shape.hidden * shape.layers * tokens
            + o.layer_bytes * shape.hidden * tokens
        )
    else:
        acts = o.layer_bytes * shape.hidden * shape.layers * tokens
    if recipe.method == "classification":
        # A classification head scores a handful of labels per sequence, not a vocabulary per
        # token; the encoder's masked-LM head is dropped.
        notes.append("Sequence classifier: no vocabulary logits, a head over the labels only.")
    else:
        acts += o.logit_bytes * shape.vocab * tokens
    if recipe.method == "grpo":
        # Sampling keeps keys and values (bf16) of every completion in the batch.
        acts += 2 * 2 * shape.kv_dim * shape.layers * tokens
    notes.append(
        f"Activations for {seqs} sequence(s) of {params.max_length} tokens per GPU"
        + (" with gradient checkpointing" if h.get("gradient_checkpointing", True) else "")
        + (
            f", plus the logits over a {shape.vocab}-token vocabulary"
            if recipe.method != "classification"
            else ""
        )
        + f"; shape from {shape.source}."
    )
    if recipe.method == "grpo":
        notes.append(
            "GRPO: each sequence is one sampled completion with its prompt (max_length tokens), "
            "plus its key-value cache while sampling; with LoRA the reference model is the "
            "base with adapters off, so it takes no memory of its own."
        )
    teacher = 0.0
    if recipe.method == "distillation" and params.teacher_params_b:
        teacher = params.teacher_params_b * 1e9 * 2 + 2 * shape.vocab * tokens
        notes.append(
            f"Online distillation keeps the {params.teacher_params_b:g}B teacher in bf16 on "
            f"the GPUs "
            "(2 bytes per parameter) and its logits."
        )
    total_gb = (weights + adapter + acts + teacher) / 1e9 + o.cuda_context_gb

    gpu, count, fits = _pick(total_gb, params, hw)
    if gpu is None:
        pick = GpuPick(type="cpu", count=1, memory_gb=round(total_gb, 1))
        peak, price = hw.cpu.peak_tflops, hw.cpu.price_per_hour
        notes.append(
            "Local CPU run: memory is host RAM, throughput a rough 1 TFLOPS; for smoke tests only."
        )
    else:
        pick = GpuPick(type=gpu.type, count=count, memory_gb=gpu.memory_gb)
        peak, price = gpu.peak_tflops, gpu.price_per_hour
        notes.append(
            f"A GPU counts as fitting when the share is at most {USABLE_SHARE:.0%} of its memory; "
            "the need is split evenly over the GPUs, which assumes ZeRO-3/FSDP sharding."
        )
        if not fits:
            notes.append(
                f"Does not fit even on {count} x {gpu.type}: shorten max_length, use QLoRA or "
                f"a smaller model."
            )
    if params.price_per_gpu_hour is not None:
        price = params.price_per_gpu_hour

    per_seq = params.tokens_per_example * (2 if recipe.method == "dpo" else 1)
    if params.max_steps:
        batch = (
            int(h["per_device_train_batch_size"])
            * int(h["gradient_accumulation_steps"])
            * pick.count
        )
        train_tokens = params.max_steps * batch * per_seq
        notes.append(
            f"max_steps {params.max_steps} x global batch {batch} sequences sets the trained "
            f"tokens."
        )
    elif recipe.method == "grpo":
        group = int(h["num_generations"])
        train_tokens = round(params.examples * group * per_seq * params.epochs)
        notes.append(
            f"Trained tokens = {params.examples} prompts x {group} sampled completions x "
            f"{params.tokens_per_example} tokens x {params.epochs:g} epochs."
        )
    else:
        train_tokens = round(params.examples * per_seq * params.epochs)
        notes.append(
            f"Trained tokens = {params.examples} examples x {params.tokens_per_example} tokens x "
            f"{params.epochs:g} epochs"
            + (" x 2 (chosen and rejected)." if recipe.method == "dpo" else ".")
        )
    factor = 6 if method == "full" else 4
    flops = factor * n * train_tokens
    notes.append(
        f"Training FLOPs ~ {factor} x parameters x tokens ("
        + (
            "forward and both backward passes)."
            if factor == 6
            else "frozen base: no weight gradients)."
        )
    )
    if recipe.method == "dpo":
        flops += 2 * n * train_tokens
        notes.append(
            "DPO adds a reference forward pass (2 x parameters x tokens), the base with "
            "adapters disabled."
        )
    if recipe.method == "grpo":
        flops += 2 * n * train_tokens
        notes.append(
            "GRPO samples every completion first (2 x parameters x tokens); sampling is "
            "memory-bound, so real time runs longer unless generation uses vLLM."
        )
        if float(h["kl_beta"]) > 0:
            flops += 2 * n * train_tokens
            notes.append("kl_beta above 0 adds a reference forward pass (adapters off).")
    if recipe.method == "distillation" and params.teacher_params_b:
        flops += 2 * params.teacher_params_b * 1e9 * train_tokens + 2 * n * train_tokens
        notes.append(
            "Distillation adds the teacher's forward pass and the student's own generation "
            "(2 x parameters x tokens each); generation is memory-bound, so real time runs longer."
        )
    if recipe.id == "distill-teacher-sft" and params.teacher_params_b:
        gen = 2 * params.teacher_params_b * 1e9 * params.examples * params.tokens_per_example
        notes.append(
            f"Generating the teacher answers first costs about {gen:.2g} FLOPs more "
            "(not included; often cheaper through a hosted API)."
        )
    mfu = hw.mfu[method]
    hours = flops / (pick.count * peak * 1e12 * mfu) / 3600
    notes.append(f"Throughput at {mfu:.0%} MFU of {peak:g} peak bf16 TFLOPS per device.")
    cost = hours * pick.count * price
    cal = hw.calibration
    calibrated = flops
    if h.get("gradient_checkpointing", True):
        calibrated += cal.recompute_forward_flops * n * train_tokens
    rate = pick.count * peak * 1e12 * 3600  # FLOPs per hour at 100% utilisation
    fast, slow = (
        calibrated / (rate * cal.mfu_high[method]),
        calibrated / (rate * cal.mfu_low[method]),
    )
    notes.append(
        f"Range: {fast:.3g} to {slow:.3g} hours, counting the forward pass that gradient "
        f"checkpointing repeats and {cal.mfu_low[method]:.0%} to {cal.mfu_high[method]:.0%} MFU, "
        "what fine-tuning at micro-batch 1 reaches in published measurements."
    )
    notes.append(
        f"Cost at ${price:.2f} per GPU-hour"
        + (
            " (given)."
            if params.price_per_gpu_hour is not None
            else " (indicative on-demand price)."
        )
        + " Excludes evaluation, retries and idle time."
    )
    return Estimate(
        recipe=recipe.id,
        memory_gb=round(total_gb / pick.count, 1),
        total_memory_gb=round(total_gb, 1),
        gpu=pick,
        train_tokens=int(train_tokens),
        train_flops=float(f"{flops:.4g}"),
        hours=float(f"{hours:.4g}"),
        cost_usd=round(cost, 2),
        assumptions=notes,
        hours_range=(float(f"{fast:.4g}"), float(f"{slow:.4g}")),
        cost_range_usd=(round(fast * pick.count * price, 2), round(slow * pick.count * price, 2)),
    )
