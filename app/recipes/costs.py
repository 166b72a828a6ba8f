"""Cost at the user's volume: monthly serving cost per approach, one-off cost, break-even month."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.recipes.catalog import get_recipe, recipe_for_step
from app.recipes.estimate import estimate
from app.recipes.params import params_from_profile, resolve_params
from app.recipes.prices import PriceTable, Provider

# Approaches that train weights, and which serving model they end up on.
TRAINED = {"fine_tuning": "tuned", "preference_tuning": "tuned", "distillation": "student"}


class Volume(BaseModel):
    """What one month of traffic looks like: requests, and tokens per request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monthly_requests: int = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    corpus_tokens: int | None = Field(default=None, ge=0)


class ServingCost(BaseModel):
    """One approach served for a month: on which model, with how many tokens, for how much."""

    model_config = ConfigDict(frozen=True)

    approach: str
    model_id: str
    model_label: str
    input_tokens: int
    cached_tokens: int
    output_tokens: int
    monthly_usd: float


class OneOff(BaseModel):
    """What an approach costs once before it serves: training, or embedding the material."""

    model_config = ConfigDict(frozen=True)

    usd: float
    how: str


class CostLine(BaseModel):
    """One row of the cost table."""

    model_config = ConfigDict(frozen=True)

    serving: ServingCost
    one_off: OneOff
    saving_per_month: float
    break_even_month: int | None


class CostTable(BaseModel):
    """The baseline (prompting the strong model) and one line per approach of the plan."""

    model_config = ConfigDict(frozen=True)

    baseline: ServingCost
    lines: tuple[CostLine, ...]
    provider: str
    prices_version: str


def _model_for(approach: str, provider: Provider, prices: PriceTable) -> str:
    route = prices.route[provider]
    return {"tuned": route.tuned, "student": route.student}.get(
        TRAINED.get(approach, ""), route.strong
    )


def serving_cost(
    approach: str, volume: Volume, *, provider: Provider, prices: PriceTable
) -> ServingCost:
    """Monthly cost of serving `volume` with this approach at the table's list prices."""
    a = prices.assumptions
    row = prices.serving_row(_model_for(approach, provider, prices))
    prompt, cached = volume.prompt_tokens, 0
    if approach in TRAINED:
        prompt = round(volume.prompt_tokens * a.tuned_prompt_share)
    elif approach == "rag":
        prompt += a.retrieved_chunks * a.chunk_tokens
    elif approach == "long_context":
        # The material is the stable prefix of every request: the provider caches it.
        cached = volume.corpus_tokens or 0
    per_request = (
        prompt * row.input + cached * row.cached_input + volume.output_tokens * row.output
    ) / 1e6
    return ServingCost(
        approach=approach,
        model_id=row.id,
        model_label=row.label,
        input_tokens=prompt,
        cached_tokens=cached,
        output_tokens=volume.output_tokens,
        monthly_usd=round(per_request * volume.monthly_requests, 2),
    )


def break_even_month(one_off_usd: float, baseline_monthly: float, monthly: float) -> int | None:
    """The month in which the saving over the baseline has paid the one-off cost, or None."""
    saving = baseline_monthly - monthly
    if saving <= 0:
        return None
    return max(1, math.ceil(one_off_usd / saving))


def one_off_cost(
    approach: str,
    technique: str | None,
    profile: Mapping[str, Any],
    *,
    hosted: bool,
    provider: Provider,
    owned_gpu: bool,
    prices: PriceTable,
) -> OneOff:
    """Training (hosted per token, or GPU hours) or embedding the material, from the recipes."""
    if approach == "rag":
        row = prices.embedding[0]
        tokens = int(profile.get("corpus_tokens") or 0)
        usd = tokens * row.per_million_tokens / 1e6
        return OneOff(usd=round(usd, 2), how=f"embedding {tokens:,} tokens with {row.label}")
    recipe_id = recipe_for_step(approach, technique) if approach in TRAINED else None
    if recipe_id is None:
        return OneOff(usd=0.0, how="nothing to train")
    recipe = get_recipe(recipe_id)
    overrides = dict(params_from_profile(profile))
    if owned_gpu and not hosted:
        overrides["price_per_gpu_hour"] = 0
    params = resolve_params(recipe, base=overrides)
    e = estimate(recipe, params)
    training = prices.training_row(provider) if hosted else None
    if training is not None:
        usd = e.train_tokens * training.per_million_tokens / 1e6
        return OneOff(
            usd=round(usd, 2),
            how=f"{e.train_tokens:,} trained tokens at ${training.per_million_tokens:g} per "
            f"million ({training.label}), recipe {recipe.id}",
        )
    where = "your own GPU: no hourly cost" if owned_gpu else f"{e.gpu.count} x {e.gpu.type} rented"
    low, high = e.hours_range or (e.hours, e.hours)
    # The slow end of the calibrated range: break-even should not be promised too early.
    usd = e.cost_range_usd[1] if e.cost_range_usd else e.cost_usd
    return OneOff(
        usd=usd, how=f"{low:.3g} to {high:.3g} hours on {where} (the slow end), recipe {recipe.id}"
    )


def cost_table(
    plan: Sequence[str],
    volume: Volume,
    one_offs: Mapping[str, OneOff],
    *,
    provider: Provider,
    prices: PriceTable,
) -> CostTable:
    """Serving cost of each plan step against prompting the strong model, with break-even."""
    baseline = serving_cost("prompting", volume, provider=provider, prices=prices)
    lines = []
    for approach in plan:
        serving = serving_cost(approach, volume, provider=provider, prices=prices)
        one_off = one_offs.get(approach, OneOff(usd=0.0, how="nothing to train"))
        saving = round(baseline.monthly_usd - serving.monthly_usd, 2)
        lines.append(
            CostLine(
                serving=serving,
                one_off=one_off,
                saving_per_month=saving,
                break_even_month=break_even_month(
                    one_off.usd, baseline.monthly_usd, serving.monthly_usd
                ),
            )
        )
    return CostTable(
        baseline=baseline, lines=tuple(lines), provider=provider, prices_version=prices.version
    )
