"""Cost at the user's volume: serving per approach, one-off costs, break-even, the price table."""

from __future__ import annotations

import pytest

from app.recipes import BadValue
from app.recipes.costs import (
    OneOff,
    Volume,
    break_even_month,
    cost_table,
    one_off_cost,
    serving_cost,
)
from app.recipes.prices import PROVIDERS, load_prices, parse_price

PRICES = load_prices()
VOLUME = Volume(monthly_requests=1_000_000, prompt_tokens=2000, output_tokens=100)


def test_every_row_is_dated_with_its_source() -> None:
    rows = [*PRICES.serving, *PRICES.training, *PRICES.embedding]
    assert all(r.source.startswith("https://") and r.read_on[:2] == "20" for r in rows)
    assert set(PRICES.route) == set(PROVIDERS)
    assert {r.provider for r in PRICES.training} == set(PROVIDERS)


def test_serving_cost_is_requests_times_tokens_times_price() -> None:
    row = PRICES.serving_row(PRICES.route["openai"].strong)
    cost = serving_cost("prompting", VOLUME, provider="openai", prices=PRICES)
    expected = 1_000_000 * (2000 * row.input + 100 * row.output) / 1e6
    assert cost.monthly_usd == pytest.approx(expected)
    assert cost.model_id == "gpt-4.1"


def test_tuned_models_get_a_shorter_prompt_and_rag_a_longer_one() -> None:
    tuned = serving_cost("fine_tuning", VOLUME, provider="openai", prices=PRICES)
    rag = serving_cost("rag", VOLUME, provider="openai", prices=PRICES)
    share = PRICES.assumptions.tuned_prompt_share
    assert tuned.input_tokens == round(2000 * share)
    assert tuned.model_id == PRICES.route["openai"].tuned
    a = PRICES.assumptions
    assert rag.input_tokens == 2000 + a.retrieved_chunks * a.chunk_tokens


def test_long_context_pays_the_cached_price_for_the_material() -> None:
    volume = VOLUME.model_copy(update={"corpus_tokens": 100_000})
    cost = serving_cost("long_context", volume, provider="openai", prices=PRICES)
    row = PRICES.serving_row("gpt-4.1")
    assert cost.cached_tokens == 100_000
    per_request = (2000 * row.input + 100_000 * row.cached_input + 100 * row.output) / 1e6
    assert cost.monthly_usd == pytest.approx(per_request * 1_000_000)
    uncached = (102_000 * row.input + 100 * row.output) / 1e6 * 1_000_000
    assert cost.monthly_usd < uncached


@pytest.mark.parametrize(
    ("one_off", "baseline", "monthly", "month"),
    [(1000.0, 600.0, 100.0, 2), (500.0, 600.0, 100.0, 1), (0.0, 600.0, 100.0, 1)],
)
def test_break_even_month(one_off: float, baseline: float, monthly: float, month: int) -> None:
    assert break_even_month(one_off, baseline, monthly) == month


def test_no_break_even_without_a_saving() -> None:
    assert break_even_month(10.0, 100.0, 100.0) is None
    assert break_even_month(10.0, 100.0, 250.0) is None


def test_hosted_training_is_priced_per_trained_token() -> None:
    profile = {"labeled_examples": 2000, "task_kind": "extraction_classification"}
    cost = one_off_cost(
        "fine_tuning",
        "lora",
        profile,
        hosted=True,
        provider="together",
        owned_gpu=False,
        prices=PRICES,
    )
    # 2,000 examples x 256 tokens x 3 epochs at Together's price per million.
    per_million = PRICES.training_row("together").per_million_tokens  # type: ignore[union-attr]
    assert cost.usd == pytest.approx(round(2000 * 256 * 3 * per_million / 1e6, 2))
    assert "1,536,000 trained tokens" in cost.how


def test_an_owned_gpu_costs_nothing_per_hour() -> None:
    profile = {"labeled_examples": 2000, "gpu": "consumer_24gb"}
    owned = one_off_cost(
        "fine_tuning",
        "lora",
        profile,
        hosted=False,
        provider="openai",
        owned_gpu=True,
        prices=PRICES,
    )
    rented = one_off_cost(
        "fine_tuning",
        "lora",
        profile,
        hosted=False,
        provider="openai",
        owned_gpu=False,
        prices=PRICES,
    )
    assert owned.usd == 0 and "own GPU" in owned.how
    assert rented.usd > 0 and "L4" in rented.how


def test_rag_pays_once_to_embed_the_material() -> None:
    cost = one_off_cost(
        "rag",
        None,
        {"corpus_tokens": 50_000_000},
        hosted=True,
        provider="openai",
        owned_gpu=False,
        prices=PRICES,
    )
    assert cost.usd == pytest.approx(50 * PRICES.embedding[0].per_million_tokens)


def test_the_table_compares_each_step_with_prompting() -> None:
    one_offs = {"distillation": OneOff(usd=5000.0, how="training")}
    table = cost_table(
        ["prompting", "distillation"], VOLUME, one_offs, provider="openai", prices=PRICES
    )
    prompting, distilled = table.lines
    assert prompting.saving_per_month == 0 and prompting.break_even_month is None
    assert distilled.saving_per_month > 0
    expected = -(-5000 // distilled.saving_per_month)
    assert distilled.break_even_month == expected


def test_edited_prices_change_the_cost() -> None:
    cheap = PRICES.with_serving_prices({"gpt-4.1": (1.0, 4.0)})
    before = serving_cost("prompting", VOLUME, provider="openai", prices=PRICES).monthly_usd
    after = serving_cost("prompting", VOLUME, provider="openai", prices=cheap).monthly_usd
    assert after == pytest.approx(before / 2)
    assert cheap.serving_row("gpt-4.1").cached_input == pytest.approx(0.25)


@pytest.mark.parametrize("raw", ["abc", "-1", "1001", ""])
def test_a_bad_price_names_the_field(raw: str) -> None:
    with pytest.raises(BadValue, match=r"price_gpt-4\.1_in: a price must be a number"):
        parse_price("price_gpt-4.1_in", raw)


def test_a_typed_price_accepts_a_dollar_sign() -> None:
    assert parse_price("p", " $2.50 ") == 2.5
