"""What the recipe page takes from the assessment: hosted provider first, owned GPU, playbooks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.decision.profile import Profile
from app.recipes import Estimate, Recipe
from app.recipes.playbooks import long_context_figures, rag_figures
from app.recipes.prices import PROVIDER_LABELS, PROVIDERS, load_prices

# Query keys the page reads itself; they are not recipe parameters.
PAGE_KEYS = ("provider", "owned", "corpus_tokens", "requests", "prompt_tokens")
PLAYBOOK_FIELDS = {
    "corpus_tokens": ("Reference material (tokens)", 10**10),
    "requests": ("Requests per month", 10**12),
    "prompt_tokens": ("Prompt tokens per request, besides the material", 10**7),
}
# A page of prose is about 500 tokens; the assessment states the material in tokens.
DEFAULT_CORPUS_TOKENS = 1_000_000
DEFAULT_CONTEXT_WINDOW = 1_000_000


def page_settings(query: Mapping[str, str], profile: Profile | None) -> dict[str, Any]:
    """Hosted or self-hosted, which provider, and whether the GPU is owned.

    `?provider=` wins (empty: "we run it ourselves"); else the assessment's answers: a hosted
    API user gets the provider answered (OpenAI when another or none was named).
    """
    answered = profile.hosted_provider if profile is not None else None
    chosen = query.get("provider")
    if chosen is not None and chosen in ("", *PROVIDERS):
        hosted = chosen != ""
        provider = chosen or (answered if answered in PROVIDERS else "openai")
    else:
        hosted = profile is not None and profile.deployment == "hosted_api"
        provider = answered if answered in PROVIDERS else "openai"
    gpu_in_reach = profile is not None and profile.gpu not in (None, "none")
    owned = query.get("owned", "yes" if gpu_in_reach and not hosted else "no") == "yes"
    # Another provider than the three we know: OpenAI's job stands in, and the page says so.
    stand_in = hosted and answered == "other" and chosen is None
    return {"hosted": hosted, "provider": provider, "owned": owned, "stand_in": stand_in}


def hosted_first(formats: list[str], settings: Mapping[str, Any]) -> list[str]:
    """Export formats with the chosen provider's job first for hosted users, else as listed."""
    if not settings["hosted"]:
        return formats
    order = [settings["provider"], *(p for p in PROVIDERS if p != settings["provider"])]
    hosted = [f for f in order if f in formats]
    return hosted + [f for f in formats if f not in hosted]


def hosted_cost(
    recipe: Recipe, e: Estimate | None, settings: Mapping[str, Any], formats: list[str]
) -> dict[str, Any] | None:
    """The provider's job priced per trained token, when the user runs on a hosted API."""
    if not settings["hosted"] or e is None:
        return None
    provider = settings["provider"]
    row = load_prices().training_row(provider)
    if row is None:
        return None
    return {
        "provider": provider,
        "label": PROVIDER_LABELS[provider],
        "available": provider in formats,
        "price": row,
        "tokens": e.train_tokens,
        "usd": round(e.train_tokens * row.per_million_tokens / 1e6, 2),
        "recipe": recipe.id,
    }


def provider_options(settings: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """The provider select: none (self-hosted) and each hosted provider."""
    current = settings["provider"] if settings["hosted"] else ""
    options = [("", "None: we run it ourselves")]
    options += [(p, PROVIDER_LABELS[p]) for p in PROVIDERS]
    return [(value, label, value == current) for value, label in options]


def _count(raw: str, label: str, high: int) -> int:
    text = raw.strip().replace(",", "").replace(" ", "").replace("_", "")
    if not (text.isascii() and text.isdigit()) or int(text) > high:
        raise ValueError(f"{label} must be a whole number from 0 to {high:,}.")
    return int(text)


def playbook_context(
    recipe: Recipe, query: Mapping[str, str], profile: Profile | None
) -> dict[str, Any] | None:
    """RAG: chunks, embedding cost, index size; long context: tokens and the cache saving."""
    if recipe.id not in ("rag-index", "long-context-cache"):
        return None
    prices = load_prices()
    known = {
        "corpus_tokens": profile.corpus_tokens if profile else None,
        "requests": profile.monthly_requests if profile else None,
        "prompt_tokens": profile.prompt_tokens if profile else None,
    }
    defaults = {"corpus_tokens": DEFAULT_CORPUS_TOKENS, "requests": 100_000, "prompt_tokens": 500}
    values: dict[str, int] = {k: v if v is not None else defaults[k] for k, v in known.items()}
    errors: dict[str, str] = {}
    for key, (label, high) in PLAYBOOK_FIELDS.items():
        if query.get(key, "").strip():
            try:
                values[key] = _count(query[key], label, high)
            except ValueError as exc:
                errors[key] = str(exc)
    fields = [
        {
            "key": key,
            "label": label,
            "value": query.get(key, str(values[key])) if key in errors else str(values[key]),
            "error": errors.get(key),
            "from_assessment": known[key] is not None and not query.get(key),
        }
        for key, (label, _) in PLAYBOOK_FIELDS.items()
        if recipe.id == "long-context-cache" or key == "corpus_tokens"
    ]
    context: dict[str, Any] = {"fields": fields, "errors": errors, "rag": None, "long": None}
    if recipe.id == "rag-index":
        context["rag"] = rag_figures(values["corpus_tokens"], prices.embedding[0])
    else:
        window = profile.context_window_tokens if profile else None
        context["long"] = long_context_figures(
            values["corpus_tokens"],
            values["prompt_tokens"],
            values["requests"],
            prices.serving_row(prices.route["openai"].strong),
            context_window=window or DEFAULT_CONTEXT_WINDOW,
        )
    return context


_EXPECTED = re.compile(r"^(?P<key>\w+): expected (?P<what>.+?), got (?P<got>.+)$")
_RANGE = re.compile(r"^a number in (?P<open>[(\[])(?P<lo>[\d.]+), (?P<hi>[\d.]+)\]$")
_INTEGER = re.compile(r"^an integer from (?P<lo>\d+) to (?P<hi>\d+)$")


def _n(text: str) -> str:
    number = float(text)
    return f"{number:,.0f}" if number.is_integer() else f"{number:g}"


def plain_error(label: str, message: str) -> str:
    """A validation message in plain words: "Epochs must be a number above 0, at most 100."."""
    match = _EXPECTED.match(message)
    if match is None:
        return message
    what = match["what"]
    if m := _RANGE.match(what):
        low = f"above {_n(m['lo'])}" if m["open"] == "(" else f"from {_n(m['lo'])}"
        return f"{label} must be a number {low}, at most {_n(m['hi'])}."
    if m := _INTEGER.match(what):
        return f"{label} must be a whole number from {_n(m['lo'])} to {_n(m['hi'])}."
    return f"{label} must be {what}."
