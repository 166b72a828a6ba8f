"""The recommendation the engine returns: the fields of the decision contract."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.decision.profile import Approach, Prerequisite


class Reason(BaseModel):
    """One checkable reason: which answer moved which approach, and why."""

    model_config = ConfigDict(frozen=True)

    approach: Approach | None
    effect: Literal["+", "-", "!"]
    field: str
    text: str


class Change(BaseModel):
    """A single answer change that would change the primary approach."""

    model_config = ConfigDict(frozen=True)

    field: str
    to: Any
    primary: Approach


class Recommendation(BaseModel):
    """The engine's answer for one profile."""

    model_config = ConfigDict(frozen=True)

    primary: Approach
    plan: list[Approach]
    scores: dict[Approach, float]
    prerequisites: list[Prerequisite]
    confidence: float = Field(ge=0, le=1)
    reasons: list[Reason]
    what_would_change: list[Change]
    technique: dict[Approach, str]
    recipe: str | None
    ruleset: str
    # Added in ruleset 2026.12.1 (optional): rungs already in production that stay in the plan
    # as they are ("keep"), never recommended as new; older snapshots have none.
    keep: list[Approach] = []
