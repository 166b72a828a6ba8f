"""GPU table, reference model shapes and throughput assumptions, loaded from data/hardware.toml."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt


class GpuType(BaseModel):
    """One row of the GPU table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    memory_gb: PositiveFloat
    peak_tflops: PositiveFloat
    price_per_hour: float = Field(ge=0)


class Shape(BaseModel):
    """A reference model shape used when no config.json is available."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    params_b: PositiveFloat
    hidden: PositiveInt
    layers: PositiveInt
    vocab: PositiveInt


class Overhead(BaseModel):
    """Memory constants of the estimate (see the comments in hardware.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cuda_context_gb: float = Field(ge=0)
    adapter_bytes_per_param: float = Field(gt=0)
    logit_bytes: float = Field(gt=0)
    checkpoint_bytes: float = Field(gt=0)
    layer_bytes: float = Field(gt=0)


class Cpu(BaseModel):
    """Throughput and price assumed for a local CPU run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    peak_tflops: PositiveFloat
    price_per_hour: float = Field(ge=0)


class Calibration(BaseModel):
    """What turns the point estimate into a range: recomputation and an MFU range per method."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recompute_forward_flops: float = Field(ge=0)
    sources: tuple[str, ...] = Field(min_length=1)
    mfu_low: dict[str, float]
    mfu_high: dict[str, float]


class Hardware(BaseModel):
    """Everything in hardware.toml, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    mfu: dict[str, float]
    bytes_per_param: dict[str, float]
    overhead: Overhead
    shapes: tuple[Shape, ...] = Field(min_length=1)
    gpus: tuple[GpuType, ...] = Field(min_length=1)
    counts: tuple[PositiveInt, ...] = Field(min_length=1)
    cpu: Cpu
    calibration: Calibration

    def gpu(self, name: str) -> GpuType | None:
        """The GPU row with this type name (case-insensitive), or None."""
        for g in self.gpus:
            if g.type.lower() == name.lower():
                return g
        return None

    def nearest_shape(self, params_b: float) -> Shape:
        """The reference shape closest in size (by ratio) to params_b."""
        return min(
            self.shapes,
            key=lambda s: abs(s.params_b / params_b - 1) + abs(params_b / s.params_b - 1),
        )


@cache
def load_hardware() -> Hardware:
    """Load and validate data/hardware.toml (cached)."""
    path = resources.files("app.recipes").joinpath("data").joinpath("hardware.toml")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for method in ("full", "lora", "qlora"):
        if method not in raw["mfu"] or method not in raw["bytes_per_param"]:
            raise ValueError(f"hardware.toml: mfu and bytes_per_param need an entry for {method}")
        low, high = raw["calibration"]["mfu_low"], raw["calibration"]["mfu_high"]
        if not 0 < low.get(method, 0) <= high.get(method, 0) <= 1:
            raise ValueError(
                f"hardware.toml: calibration needs 0 < mfu_low <= mfu_high for {method}"
            )
    return Hardware(
        version=raw["version"],
        mfu=raw["mfu"],
        bytes_per_param=raw["bytes_per_param"],
        overhead=Overhead(**raw["overhead"]),
        shapes=tuple(Shape(**s) for s in raw["shape"]),
        gpus=tuple(GpuType(**g) for g in raw["gpu"]),
        counts=tuple(raw["search"]["counts"]),
        cpu=Cpu(**raw["cpu"]),
        calibration=Calibration(**raw["calibration"]),
    )


def gpu_names() -> list[str]:
    """Allowed values of the `gpu` parameter: auto, cpu and every table type."""
    return ["auto", "cpu", *(g.type for g in load_hardware().gpus)]


load_hardware()  # fail at import on a broken table
