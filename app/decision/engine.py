"""recommend(profile) -> Recommendation: the pure decision function of the advisor."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from app.decision.compiler import COMPILED
from app.decision.fields import APPROACH_INDEX, FIELD_INDEX
from app.decision.profile import PROFILE_FIELDS, Profile
from app.decision.recommendation import Recommendation
from app.decision.render import Decision, to_model
from app.decision.rules import RULES, TRAINING
from app.decision.whatif import what_would_change

N_FIELDS = len(PROFILE_FIELDS)
_VALUES = itemgetter(*PROFILE_FIELDS)
_TRAINING = tuple(APPROACH_INDEX[a] for a in TRAINING)
_GAP = FIELD_INDEX["gap"]
_PLAN = RULES.plan
_THRESHOLD = _PLAN.threshold
_EXCLUSIVE = tuple(tuple(APPROACH_INDEX[a] for a in group) for group in _PLAN.exclusive)
_COMPANIONS = tuple(
    (APPROACH_INDEX[c.with_], APPROACH_INDEX[c.add], c.min_raw, j)
    for j, c in enumerate(_PLAN.companion)
)
_CONF = RULES.confidence
_RULE_APPROACH = tuple(APPROACH_INDEX[r.approach] for r in RULES.rule)
_RULE_WEIGHT = tuple(r.weight for r in RULES.rule)
# Negative rules at least this strong explain why an approach stayed out of the plan.
WHY_NOT = -0.3
_RECIPES = {APPROACH_INDEX[a]: table for a, table in RULES.recipes.items()}


def profile_values(profile: Profile) -> tuple[Any, ...]:
    """The profile's field values as a tuple in PROFILE_FIELDS order (fast attribute read)."""
    return _VALUES(profile.__dict__)  # type: ignore[no-any-return]


def argmax(raw: list[float]) -> int:
    """Index of the highest score; ties go to the cheaper (earlier) approach."""
    return max(range(6), key=raw.__getitem__)


def build_plan(raw: list[float], primary: int) -> tuple[list[int], list[int]]:
    """The approaches to do, in order, and the companions that joined because of another."""
    chosen = {i for i, r in enumerate(raw) if r >= _THRESHOLD}
    chosen.add(primary)
    for group in _EXCLUSIVE:
        present = [i for i in group if i in chosen]
        if len(present) > 1:
            keep = primary if primary in present else max(present, key=raw.__getitem__)
            chosen.difference_update(i for i in present if i != keep)
    added = []
    for with_, add, min_raw, j in _COMPANIONS:
        if with_ in chosen and add not in chosen and raw[add] >= min_raw:
            chosen.add(add)
            added.append(j)
    return sorted(chosen), added


def confidence(p: tuple[Any, ...], raw: list[float], primary: int) -> float:
    """Higher with more answers and a clear lead; lower when the gap itself is unclear."""
    known = (N_FIELDS - p.count(None)) / N_FIELDS
    lead = raw[primary] - max(r for i, r in enumerate(raw) if i != primary)
    value = _CONF.base + _CONF.known * known + _CONF.margin * min(1.0, lead / _CONF.margin_full)
    if p[_GAP] in (None, "unsure"):
        value -= _CONF.unsure_gap
    return round(min(1.0, max(_CONF.floor, value)), 2)


def _techniques(p: tuple[Any, ...], plan: list[int]) -> dict[int, str]:
    """The variant of every training approach in the plan: first matching rule, else default."""
    out = {}
    for ai in plan:
        if ai in _TRAINING:
            variant = COMPILED.technique_default[ai]
            for name, pred in COMPILED.techniques.get(ai, ()):
                if pred(p):
                    variant = name
                    break
            out[ai] = variant
    return out


def _recipe(plan: list[int], technique: dict[int, str], primary: int) -> str | None:
    """The primary's recipe if it trains; else the plan's first training step; else a playbook."""
    if primary in technique:
        return _RECIPES[primary].get(technique[primary])
    for ai in plan:
        if ai in technique:
            return _RECIPES[ai].get(technique[ai])
    return _RECIPES[primary].get("default")


def _reasons(
    fired: list[int], plan: list[int], primary: int, prereqs: list[tuple[str, int]], added: list[int]
) -> list[tuple[str, int]]:
    """Reasons for the primary, then the rest of the plan, prerequisites, then why-nots."""
    buckets: list[list[int]] = [[], [], [], [], [], []]
    for k in fired:
        buckets[_RULE_APPROACH[k]].append(k)
    out: list[tuple[str, int]] = []
    for ai in (primary, *(a for a in plan if a != primary)):
        if buckets[ai]:
            out.extend(("rule", k) for k in buckets[ai])
        else:
            out.append(("fallback", ai))
    out.extend(("companion", j) for j in added)
    out.extend(("pre", k) for _, k in prereqs)
    for ai in range(6):
        if ai not in plan:
            out.extend(("rule", k) for k in buckets[ai] if _RULE_WEIGHT[k] <= WHY_NOT)
    return out


def decide(p: tuple[Any, ...]) -> Decision:
    """Decide on a values tuple (see profile_values); the hot path of the engine."""
    raw, fired = COMPILED.score(p)
    primary = argmax(raw)
    plan, added = build_plan(raw, primary)
    prereqs: list[tuple[str, int]] = []
    seen = set()
    for pid, pred, plan_any, k in COMPILED.prerequisites:
        if pid not in seen and (not plan_any or not plan_any.isdisjoint(plan)) and pred(p):
            seen.add(pid)
            prereqs.append((pid, k))
    technique = _techniques(p, plan)
    return Decision(
        primary,
        plan,
        raw,
        prereqs,
        confidence(p, raw, primary),
        _reasons(fired, plan, primary, prereqs, added),
        what_would_change(p, raw, primary),
        technique,
        _recipe(plan, technique, primary),
        p,
    )


def recommend(profile: Profile) -> Recommendation:
    """The recommendation for one profile (see docs: decision-contract.md)."""
    return to_model(decide(profile_values(profile)))
