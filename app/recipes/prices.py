"""The list-price table (data/prices.toml): serving, hosted training and embedding prices."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt

from app.recipes.errors import BadValue

Provider = Literal["openai", "together", "fireworks"]
PROVIDERS: tuple[Provider, ...] = get_args(Provider)
PROVIDER_LABELS: dict[str, str] = {
    "openai": "OpenAI",
    "together": "Together AI",
    "fireworks": "Fireworks AI",
}


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    source: str = Field(pattern=r"^https://")
    read_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")


class ServingPrice(_Row):
    """A hosted model's list price per million input, cached input and output tokens."""

    id: str
    input: NonNegativeFloat
    cached_input: NonNegativeFloat
    output: NonNegativeFloat


class TrainingPrice(_Row):
    """A hosted fine-tuning job's price per million trained tokens."""

    provider: Provider
    per_million_tokens: NonNegativeFloat


class EmbeddingPrice(_Row):
    """An embedding model's price per million tokens and its vector size."""

    id: str
    per_million_tokens: NonNegativeFloat
    dimensions: PositiveInt


class Route(BaseModel):
    """Which serving row the strong model, a tuned model and a distilled student use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strong: str
    tuned: str
    student: str


class CostAssumptions(BaseModel):
    """The few numbers the cost table assumes when the assessment does not give them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tuned_prompt_share: float = Field(gt=0, le=1)
    retrieved_chunks: PositiveInt
    chunk_tokens: PositiveInt
    output_tokens: PositiveInt


class PriceTable(BaseModel):
    """Everything in prices.toml, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    serving: tuple[ServingPrice, ...] = Field(min_length=1)
    training: tuple[TrainingPrice, ...]
    embedding: tuple[EmbeddingPrice, ...] = Field(min_length=1)
    route: dict[Provider, Route]
    assumptions: CostAssumptions
    output_tokens: dict[str, PositiveInt]

    def serving_row(self, row_id: str) -> ServingPrice:
        """The serving row with this id (the table is validated, so routes always resolve)."""
        return next(row for row in self.serving if row.id == row_id)

    def training_row(self, provider: str) -> TrainingPrice | None:
        """The hosted fine-tuning price of this provider, if the table has one."""
        return next((row for row in self.training if row.provider == provider), None)

    def with_serving_prices(self, prices: Mapping[str, tuple[float, float]]) -> PriceTable:
        """A copy whose serving rows take the given (input, output) prices, e.g. from a form."""
        rows = []
        for row in self.serving:
            if row.id in prices:
                given_in, given_out = prices[row.id]
                cached = row.cached_input * given_in / row.input if row.input else given_in
                row = row.model_copy(
                    update={"input": given_in, "output": given_out, "cached_input": cached}
                )
            rows.append(row)
        return self.model_copy(update={"serving": tuple(rows)})


def parse_price(key: str, raw: str) -> float:
    """A price typed in a form: a number from 0 to 1,000 USD per million tokens."""
    text = raw.strip().removeprefix("$").replace(",", "")
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1000:
        raise BadValue(
            f"{key}: a price must be a number of dollars per million tokens, 0 to 1000; "
            f"got {raw!r}",
            key=key,
        )
    return value


@cache
def load_prices() -> PriceTable:
    """Load and validate data/prices.toml (cached); every route must name a serving row."""
    path = resources.files("app.recipes").joinpath("data").joinpath("prices.toml")
    table = PriceTable.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    ids = {row.id for row in table.serving}
    for provider, route in table.route.items():
        for row_id in (route.strong, route.tuned, route.student):
            if row_id not in ids:
                raise ValueError(f"prices.toml: route.{provider} names unknown row {row_id!r}")
    return table


load_prices()  # fail at import on a broken table
