"""recommend(profile) -> Recommendation: the pure decision function of the advisor."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from app.decision.compiler import COMPILED
from app.decision.fields import APPROACH_INDEX, FIELD_INDEX
from app.decision.profile import PROFILE_FIELDS, Profile
from app.decision.recommendation import Recommendation
from app.decision.render import COMPANION, FALLBACK, KEEP, Decision, to_model
from app.decision.rules import RULES, SCALE, TRAINING
from app.decision.whatif import what_would_change

N_FIELDS = len(PROFILE_FIELDS)
VALUES = itemgetter(*PROFILE_FIELDS)  # a Profile's __dict__ -> values in field order
_SCORE = COMPILED.score
_PREREQ = COMPILED.prerequisites
_TECH = COMPILED.techniques
_KEEP = COMPILED.keep
_GAP = FIELD_INDEX["gap"]
_ALREADY = FIELD_INDEX["already_using"]
_THRESHOLD = round(RULES.plan.threshold * SCALE)
_EXCLUSIVE = tuple(tuple(APPROACH_INDEX[a] for a in group) for group in RULES.plan.exclusive)
_COMPANIONS = tuple(
    (
        APPROACH_INDEX[c.with_],
        APPROACH_INDEX[c.add],
        round(c.min_raw * SCALE),
        COMPANION + j,
        frozenset(RULES.rule_index[r] for r in c.if_fired),
    )
    for j, c in enumerate(RULES.plan.companion)
)
# Which approach each companion adds, and its reason key (one companion per added approach).
_COMPANION_KEY = {c[1]: c[3] for c in _COMPANIONS}
assert len(_COMPANION_KEY) == len(_COMPANIONS), "one companion rule per added approach"
# Per keep rule: (approach index, reason key).
_KEEPS = tuple((APPROACH_INDEX[k.approach], KEEP + j) for j, k in enumerate(RULES.plan.keep))
_CONF = RULES.confidence
_MARGIN_FULL = _CONF.margin_full * SCALE
_RULE_APPROACH = tuple(APPROACH_INDEX[r.approach] for r in RULES.rule)
_RANGE = range(6)
_COMPANION_OF = frozenset(c[0] for c in _COMPANIONS)
_FIRST_TRAINING = min(APPROACH_INDEX[a] for a in TRAINING)
assert all(APPROACH_INDEX[a] >= _FIRST_TRAINING for a in TRAINING)
assert len(TRAINING) == len(APPROACH_INDEX) - _FIRST_TRAINING, "training approaches come last"
_NO_TECHNIQUE: dict[int, str] = {}  # shared and never mutated
_NO_ADDED: list[int] = []  # shared and never mutated
_NO_KEEP: list[int] = []  # shared and never mutated
_new_decision = tuple.__new__  # builds the NamedTuple in one C call
_ALONE = tuple([i] for i in _RANGE)  # one-approach plans, shared and never mutated
_RECIPES = {APPROACH_INDEX[a]: table for a, table in RULES.recipes.items()}
_PLAYBOOK = tuple(_RECIPES[i].get("default") for i in _RANGE)


def profile_values(profile: Profile) -> tuple[Any, ...]:
    """The profile's field values as a tuple in PROFILE_FIELDS order (fast attribute read)."""
    return VALUES(profile.__dict__)


def build_plan(
    raw: list[int], primary: int, fired: tuple[list[int], ...]
) -> tuple[list[int], list[int]]:
    """The rungs to climb, in order, and the reasons of companions that joined.

    A rung joins the primary when its raw score clears the threshold (its own need, since
    only needs add to a score); of exclusive alternatives only the better one stays; a
    companion joins its partner when it scores `min_raw` and, if named, one of its rules fired.
    """
    threshold = _THRESHOLD
    plan = [i for i in _RANGE if raw[i] >= threshold or i == primary]
    for group in _EXCLUSIVE:
        present = [i for i in group if i in plan]
        if len(present) > 1:
            keep = primary if primary in present else max(present, key=raw.__getitem__)
            plan = [i for i in plan if i == keep or i not in present]
    added = []
    for with_, add, min_raw, reason, needs in _COMPANIONS:
        if with_ in plan and add not in plan and raw[add] >= min_raw:
            if needs and needs.isdisjoint(fired[add]):
                continue
            plan = sorted([*plan, add])
            added.append(reason)
    return plan, added


def kept_in_production(
    p: tuple[Any, ...], raw: list[int], plan: list[int], primary: int
) -> tuple[list[int], list[int], list[int]]:
    """(plan with the rungs already in production that stay, those kept rungs, their reasons)."""
    keep, reasons = [], []
    for j in _KEEP(p, raw):
        approach, reason = _KEEPS[j]
        if approach != primary and approach not in keep:
            keep.append(approach)
            reasons.append(reason)
    if not keep:
        return plan, _NO_KEEP, _NO_ADDED
    if len(keep) == 1:  # the usual case: no pairs to sort
        return sorted({*plan, keep[0]}), keep, reasons
    pairs = sorted(zip(keep, reasons, strict=True))
    return sorted({*plan, *keep}), [a for a, _ in pairs], [r for _, r in pairs]


_C_BASE = _CONF.base
_C_KNOWN = _CONF.known / N_FIELDS
_C_MARGIN = _CONF.margin / _MARGIN_FULL
_C_MARGIN_MAX = _CONF.margin
_C_UNSURE = _CONF.unsure_gap
_C_FLOOR = _CONF.floor


def confidence(p: tuple[Any, ...], lead: int) -> float:
    """Higher with more answers and a clear lead; lower when the gap itself is unclear.

    base + known * (share of fields answered) + margin * min(1, lead / margin_full),
    minus unsure_gap when the gap is unknown or "unsure"; clamped to floor..1.
    """
    value = _C_BASE + _C_KNOWN * (N_FIELDS - p.count(None))
    value += _C_MARGIN * lead if lead < _MARGIN_FULL else _C_MARGIN_MAX
    gap = p[_GAP]
    if gap is None or gap == "unsure":
        value -= _C_UNSURE
    value = _C_FLOOR if value < _C_FLOOR else 1.0 if value > 1.0 else value
    return int(value * 100.0 + 0.5) / 100.0  # two decimals; round(x, 2) is much slower


def _recipe(plan: list[int], technique: dict[int, str], primary: int) -> str | None:
    """The primary's recipe if it trains; else the plan's first new training step; else a
    playbook."""
    if primary in technique:
        return _RECIPES[primary].get(technique[primary])
    for ai in plan:
        if ai in technique:
            return _RECIPES[ai].get(technique[ai])
    return _RECIPES[primary].get("default")


def decide(p: tuple[Any, ...]) -> Decision:
    """Decide on a values tuple (see profile_values); the hot path of the engine."""
    raw, pros, cons, why_not = _SCORE(p)
    ordered = sorted(raw)
    top = ordered[5]
    lead = top - ordered[4]
    # The first maximum (ties go to the cheaper rung); a rung without any need (no positive
    # score) is never first: then the cheapest rung, prompting, is.
    primary = raw.index(top) if top > 0 else 0
    if ordered[4] < _THRESHOLD and primary not in _COMPANION_OF:
        # The common case: no other rung clears the threshold and no companion can join, so
        # build_plan would return the primary alone.
        plan, added = _ALONE[primary], _NO_ADDED
    else:
        plan, added = build_plan(raw, primary, pros)
    if p[_ALREADY]:
        plan, keep, kept = kept_in_production(p, raw, plan, primary)
    else:
        keep, kept = _NO_KEEP, _NO_ADDED
    prereqs = _PREREQ(p, plan)
    # Training approaches have the highest indexes, so a plan without one ends below them.
    if plan[-1] >= _FIRST_TRAINING:
        technique = _TECH(p, plan)
        if keep:
            technique = {a: v for a, v in technique.items() if a not in keep}
        recipe = _recipe(plan, technique, primary)
    else:
        technique, recipe = _NO_TECHNIQUE, _PLAYBOOK[primary]
    # Reasons: the primary's (for, then against), the rest of the plan's, prerequisites, then
    # why-nots (inline: this runs per profile and a call costs as much as the work).
    reasons = pros[primary] or [FALLBACK + primary]  # the scorer's lists are ours to extend
    reasons += cons[primary]
    if len(plan) > 1:
        for ai in plan:
            if ai == primary:
                continue
            if keep and ai in keep:
                reasons.append(kept[keep.index(ai)])  # kept as it runs: its cause is production
            elif added and _COMPANION_KEY.get(ai) in added:
                reasons.append(_COMPANION_KEY[ai])  # joined as a companion: that is its cause
                reasons += cons[ai]
            else:
                reasons += pros[ai] or (FALLBACK + ai,)
                reasons += cons[ai]
    if prereqs:
        reasons += prereqs
    if why_not:
        for k in why_not:
            if _RULE_APPROACH[k] not in plan:
                reasons.append(k)
    return _new_decision(
        Decision,
        (
            primary,
            plan,
            raw,
            prereqs,
            confidence(p, lead),
            reasons,
            what_would_change(p, raw, primary, lead),
            technique,
            recipe,
            p,
            keep,
        ),
    )


def recommend(profile: Profile) -> Recommendation:
    """The recommendation for one profile (see decision-contract.md)."""
    return to_model(decide(profile_values(profile)))
