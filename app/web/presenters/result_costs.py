"""The result page's cost table: the assessment's volume, editable in the query, priced per step."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.decision.profile import Profile
from app.decision.recommendation import Recommendation
from app.decision.wording import WORDING
from app.recipes import RecipeError
from app.recipes.costs import OneOff, Volume, cost_table, one_off_cost
from app.recipes.prices import PROVIDER_LABELS, PROVIDERS, Provider, load_prices, parse_price

# Used when the assessment does not say; the page says so beside the field.
DEFAULT_MONTHLY_REQUESTS = 100_000
DEFAULT_PROMPT_TOKENS = 1_000
NUMBER_FIELDS = {
    "requests": ("Requests per month", 0, 10**12),
    "prompt_tokens": ("Prompt tokens per request", 0, 10**7),
    "output_tokens": ("Answer tokens per request", 0, 10**6),
}
COST_KEYS = ("requests", "prompt_tokens", "output_tokens", "provider", "owned")


def price_key(row_id: str, side: str) -> str:
    """The query key of one price: letters, digits and dashes only (it is also an element id)."""
    return f"price_{re.sub(r'[^a-z0-9]+', '-', row_id.lower())}_{side}"


def _whole_number(key: str, raw: str) -> int:
    """A count typed in the form: digits, with commas or spaces between thousands."""
    label, lo, hi = NUMBER_FIELDS[key]
    text = raw.strip().replace(",", "").replace(" ", "").replace("_", "")
    if not (text.isascii() and text.isdigit()) or not lo <= int(text) <= hi:
        raise ValueError(f"{label} must be a whole number from {lo:,} to {hi:,}.")
    return int(text)


def _defaults(profile: Profile) -> dict[str, int]:
    """The volume the assessment implies, or the stated defaults."""
    prices = load_prices()
    task = profile.task_kind or ""
    return {
        "requests": profile.monthly_requests
        if profile.monthly_requests is not None
        else DEFAULT_MONTHLY_REQUESTS,
        "prompt_tokens": profile.prompt_tokens
        if profile.prompt_tokens is not None
        else DEFAULT_PROMPT_TOKENS,
        "output_tokens": prices.output_tokens.get(task, prices.assumptions.output_tokens),
    }


def cost_context(profile: Profile, rec: Recommendation, query: Mapping[str, str]) -> dict[str, Any]:
    """Fields (value and error each), the price rows in use, and the table for the plan."""
    defaults = _defaults(profile)
    errors: dict[str, str] = {}
    numbers = dict(defaults)
    for key in NUMBER_FIELDS:
        if query.get(key, "").strip():
            try:
                numbers[key] = _whole_number(key, query[key])
            except ValueError as exc:
                errors[key] = str(exc)
    hosted = profile.deployment in (None, "hosted_api")
    chosen = query.get("provider", "")
    provider: Provider = "openai" if hosted else "together"
    for known in PROVIDERS:  # the provider the user answered, when it has a price route
        if hosted and profile.hosted_provider == known:
            provider = known
    for known in PROVIDERS:
        if chosen == known:
            provider = known
    if chosen and chosen not in PROVIDERS:
        errors["provider"] = f"Provider must be one of {', '.join(PROVIDER_LABELS.values())}."
    owned = query.get("owned", "yes" if profile.gpu not in (None, "none") else "no") == "yes"

    prices = load_prices()
    route = prices.route[provider]
    used = list(dict.fromkeys((route.strong, route.tuned, route.student)))
    typed: dict[str, tuple[float, float]] = {}
    price_fields = []
    for row_id in used:
        row = prices.serving_row(row_id)
        pair = [row.input, row.output]
        field_errors = []
        for index, side in enumerate(("in", "out")):
            key = price_key(row_id, side)
            if query.get(key, "").strip():
                try:
                    pair[index] = parse_price(key, query[key])
                except RecipeError:
                    side_word = "Input" if side == "in" else "Output"
                    errors[key] = (
                        f"{side_word} price of {row.label} must be a number of dollars per "
                        "million tokens, 0 to 1000."
                    )
                    field_errors.append(key)
        typed[row_id] = (pair[0], pair[1])
        price_fields.append(
            {
                "row": row,
                "in_key": price_key(row_id, "in"),
                "out_key": price_key(row_id, "out"),
                "in_value": query.get(price_key(row_id, "in"), f"{pair[0]:g}"),
                "out_value": query.get(price_key(row_id, "out"), f"{pair[1]:g}"),
            }
        )
    priced = prices.with_serving_prices(typed)
    volume = Volume(
        monthly_requests=numbers["requests"],
        prompt_tokens=numbers["prompt_tokens"],
        output_tokens=numbers["output_tokens"],
        corpus_tokens=profile.corpus_tokens,
    )
    answers = profile.model_dump(exclude_none=True)
    one_offs: dict[str, OneOff] = {}
    for approach in rec.plan:
        try:
            one_offs[approach] = one_off_cost(
                approach,
                rec.technique.get(approach),
                answers,
                hosted=hosted,
                provider=provider,
                owned_gpu=owned,
                prices=priced,
            )
        except RecipeError as exc:
            one_offs[approach] = OneOff(usd=0.0, how=f"no estimate: {exc.message}")
    table = cost_table(rec.plan, volume, one_offs, provider=provider, prices=priced)
    rows = [
        {"label": WORDING.approaches[approach].label, "line": line}
        for approach, line in zip(rec.plan, table.lines, strict=True)
    ]
    return {
        "table": table,
        "rows": rows,
        "hosted": hosted,
        "provider": provider,
        "providers": [(p, PROVIDER_LABELS[p]) for p in PROVIDERS],
        "owned": owned,
        "monthly_requests": numbers["requests"],
        "inputs": {
            key: query.get(key, f"{defaults[key]}") if key in errors else f"{numbers[key]}"
            for key in NUMBER_FIELDS
        },
        "from_assessment": {
            "requests": profile.monthly_requests is not None,
            "prompt_tokens": profile.prompt_tokens is not None,
            "output_tokens": profile.task_kind is not None,
        },
        "labels": {key: spec[0] for key, spec in NUMBER_FIELDS.items()},
        "price_fields": price_fields,
        "errors": errors,
        "prices_version": prices.version,
        "read_on": sorted({row.read_on for row in prices.serving}),
    }
