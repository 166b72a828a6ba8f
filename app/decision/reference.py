"""The decision as a short, readable reference: the rules data interpreted directly.

The engine compiles the same data into generated code because it must decide tens of
thousands of profiles a second (compiler.py, engine.py). This module is what that code must
compute, written for reading: tests/decision/test_reference.py checks both agree on random
profiles. It leaves out confidence, reason wording and "what would change this".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.decision.conditions import Condition
from app.decision.profile import APPROACHES, Approach, Profile
from app.decision.rules import RULES, SCALE, TRAINING, Rule


def holds(conditions: tuple[Condition, ...], profile: Profile) -> bool:
    """Every condition holds for the profile's answers."""
    return all(c.test(getattr(profile, c.field)) for c in conditions)


@dataclass(frozen=True)
class Reference:
    """What the reference decides: scores, fired rules, primary, plan, and the details."""

    raw: dict[Approach, int]
    fired: tuple[Rule, ...]
    primary: Approach
    plan: list[Approach]
    keep: list[Approach]
    prerequisites: list[str]
    technique: dict[Approach, str]
    recipe: str | None


def score(profile: Profile) -> tuple[dict[Approach, int], tuple[Rule, ...]]:
    """Each rung's base score plus the weight of every rule whose conditions all hold."""
    raw = {a: round(RULES.base[a] * SCALE) for a in APPROACHES}
    fired = tuple(rule for rule in RULES.rule if holds(rule.when, profile))
    for rule in fired:
        raw[rule.approach] += rule.milli
    return raw, fired


def plan_for(
    profile: Profile, raw: dict[Approach, int], fired: tuple[Rule, ...]
) -> tuple[Approach, list[Approach], list[Approach]]:
    """(primary, plan in ladder order, rungs kept from production)."""
    order = APPROACHES.index
    primary = max(APPROACHES, key=lambda a: (raw[a], -order(a)))  # ties: the cheaper rung
    if raw[primary] <= 0:
        primary = "prompting"  # no rung has a need: start at the cheapest
    threshold = round(RULES.plan.threshold * SCALE)
    plan = [a for a in APPROACHES if raw[a] >= threshold or a == primary]
    for group in RULES.plan.exclusive:
        present = [a for a in group if a in plan]
        if len(present) > 1:
            best = primary if primary in present else max(present, key=lambda a: raw[a])
            plan = [a for a in plan if a == best or a not in present]
    fired_ids = {rule.id for rule in fired}
    for c in RULES.plan.companion:
        wanted = not c.if_fired or fired_ids & set(c.if_fired)
        if c.with_ in plan and c.add not in plan and raw[c.add] >= c.min_raw * SCALE and wanted:
            plan = sorted([*plan, c.add], key=order)
    keep: list[Approach] = []
    for k in RULES.plan.keep:
        enough = k.min_raw is None or raw[k.approach] >= round(k.min_raw * SCALE)
        if holds(k.when, profile) and enough and k.approach != primary:
            keep.append(k.approach)
    return primary, sorted({*plan, *keep}, key=order), sorted(set(keep), key=order)


def prerequisites_for(profile: Profile, plan: list[Approach]) -> list[str]:
    """Each prerequisite once, when one of its rules holds (and the plan has what it needs)."""
    out: list[str] = []
    for pre in RULES.prerequisite:
        needed = not pre.plan_any or any(a in plan for a in pre.plan_any)
        if pre.id not in out and needed and holds(pre.when, profile):
            out.append(pre.id)
    return out


def technique_for(
    profile: Profile, plan: list[Approach], keep: list[Approach]
) -> dict[Approach, str]:
    """The variant of each new training rung: the first matching technique rule, or the default."""
    out: dict[Approach, str] = {}
    for approach in TRAINING:
        if approach in plan and approach not in keep:
            rules = [t for t in RULES.technique if t.approach == approach]
            match = next((t.variant for t in rules if holds(t.when, profile)), None)
            out[approach] = match or RULES.technique_default[approach]
    return out


def recipe_for(primary: Approach, plan: list[Approach], technique: dict[Approach, str]) -> Any:
    """The primary's recipe if it trains, else the first new training rung's, else a playbook."""
    for approach in (primary, *plan):
        if approach in technique:
            return RULES.recipes[approach].get(technique[approach])
    return RULES.recipes[primary].get("default")


def decide(profile: Profile) -> Reference:
    """The whole reference decision for one profile."""
    raw, fired = score(profile)
    primary, plan, keep = plan_for(profile, raw, fired)
    technique = technique_for(profile, plan, keep)
    return Reference(
        raw=raw,
        fired=fired,
        primary=primary,
        plan=plan,
        keep=keep,
        prerequisites=prerequisites_for(profile, plan),
        technique=technique,
        recipe=recipe_for(primary, plan, technique),
    )
