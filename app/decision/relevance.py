"""Which unanswered questions cannot change the advice, given the answers so far.

The advice is what the result page leads with: the primary, the plan, the prerequisites, the
techniques and what stays in production. A question is skipped only when no answer to it
changes any of them. The what-if bounds (whatif.py) rule most questions in at once: when a
field's largest swing from "unknown" can close the primary's lead over some rival, it may
change the primary and is asked. The rest are tried exhaustively, one representative of every
class of answers the rules tell apart (flipgen's classes), against the same `decide`.
A question the bank marks `for_recipe` (the hosted provider) is never skipped: no rule reads
it, but the recipe page opens on the job it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from app.decision import engine
from app.decision.bank import BANK
from app.decision.engine import profile_values
from app.decision.fields import FIELD_INDEX, FIELDS, INT, SET
from app.decision.flipgen import int_thresholds
from app.decision.profile import Profile
from app.decision.rules import RULES
from app.decision.whatif import FLIPS

# Per primary: field index -> {unknown class key: ((rival, largest swing), ...)}.
_UNKNOWN_SWING = tuple(
    {entry[5]: entry[3].get(-1 if entry[6] else None, ()) for entry in entries} for entries in FLIPS
)
_READ = frozenset(f for f in FIELDS if RULES.rules_by_field[f])
# Questions no rule reads that the recipe page does (the bank's `for_recipe`): always asked.
FOR_RECIPE = frozenset(q.field for q in BANK.questions if q.for_recipe)


def _representatives(field: str) -> tuple[Any, ...]:
    """One answer of every class of answers the rules tell apart."""
    info = FIELDS[field]
    if info.kind == INT:
        return (0, *int_thresholds(RULES, field))
    return tuple(info.allowed or ())


_REPS = {f: _representatives(f) for f in FIELDS if FIELDS[f].kind != SET}


def _advice(p: tuple[Any, ...]) -> tuple[Any, ...]:
    """What the result page leads with, for a values tuple: `decide` without the reasons,
    confidence and what-if search (three quarters of its time), by the same steps."""
    raw, pros, _, _ = engine._SCORE(p)
    ordered = sorted(raw)
    top = ordered[5]
    primary = raw.index(top) if top > 0 else 0
    if ordered[4] < engine._THRESHOLD and primary not in engine._COMPANION_OF:
        plan = engine._ALONE[primary]
    else:
        plan, _ = engine.build_plan(raw, primary, pros)
    keep: Any = engine._NO_KEEP
    if p[engine._ALREADY]:
        plan, keep, _ = engine.kept_in_production(p, raw, plan, primary)
    technique: Any = {}
    if plan[-1] >= engine._FIRST_TRAINING:
        technique = {a: v for a, v in engine._TECH(p, plan).items() if a not in keep}
    return primary, list(plan), engine._PREREQ(p, plan), technique, list(keep), raw


@lru_cache(maxsize=512)
def _skippable(p: tuple[Any, ...]) -> frozenset[str]:
    """Every unanswered field of a values tuple whose every answer leaves the advice as is."""
    now = _advice(p)
    primary, raw = now[0], now[5]
    now = now[:5]
    top = raw[primary]
    swings = _UNKNOWN_SWING[primary]
    skipped = set()
    for field in FIELDS:
        index = FIELD_INDEX[field]
        if p[index] is not None or field in RULES.whatif.never:
            continue
        if field in FOR_RECIPE:
            continue  # it changes the recipe, not the advice
        if field not in _READ:
            skipped.add(field)  # no rule reads it
            continue
        if FIELDS[field].kind == SET:
            continue  # any combination may be ticked: always ask
        if any(w >= top - raw[b] for b, w in swings.get(index, ())):
            continue  # its swing can close the lead: it may change the primary
        values = list(p)
        for rep in _REPS[field]:
            values[index] = rep
            if _advice(tuple(values))[:5] != now:
                break
        else:
            skipped.add(field)
    return frozenset(skipped)


def cannot_change_advice(profile: Profile, fields: Iterable[str]) -> frozenset[str]:
    """The unanswered fields among `fields` whose every answer leaves the advice as it is."""
    return _skippable(profile_values(profile)) & frozenset(fields)
