"""What to do on each rung of the plan: first action, the eval that proves it, when to move on."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field


class StepGuide(BaseModel):
    """The three sentences the result page shows under one plan step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first: str = Field(min_length=10)
    check: str = Field(min_length=10)
    next: str = Field(min_length=10)


class StepGuides(BaseModel):
    """Everything in data/steps.toml, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    step: dict[str, StepGuide]
    changeable: frozenset[str]


@cache
def load_step_guides() -> StepGuides:
    """Load and validate data/steps.toml (cached)."""
    path = resources.files("app.recipes").joinpath("data").joinpath("steps.toml")
    return StepGuides.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


def step_guide(approach: str) -> StepGuide | None:
    """The guide of one approach, or None for a step the file does not cover."""
    return load_step_guides().step.get(approach)


def changeable(field: str) -> bool:
    """True when the answer to `field` is something the user can change by acting."""
    return field in load_step_guides().changeable
