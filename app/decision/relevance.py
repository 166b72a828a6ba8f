"""Which unanswered questions cannot change the advice, given the answers so far.

The advice is what the result page leads with: the primary, the plan, the prerequisites, the
techniques and what stays in production. A question is skipped only when no answer to it
changes any of them. The what-if bounds (whatif.py) rule most questions in at once: when a
field's largest swing from "unknown" can close the primary's lead over some rival, it may
change the primary and is asked. The rest are tried exhaustively, one representative of every
class of answers the rules tell apart (flipgen's classes), against the same `decide`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.decision.engine import decide, profile_values
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


def _representatives(field: str) -> tuple[Any, ...]:
    """One answer of every class of answers the rules tell apart."""
    info = FIELDS[field]
    if info.kind == INT:
        return (0, *int_thresholds(RULES, field))
    return tuple(info.allowed or ())


_REPS = {f: _representatives(f) for f in FIELDS if FIELDS[f].kind != SET}


def _advice(p: tuple[Any, ...]) -> tuple[Any, ...]:
    """What the result page leads with, for a values tuple."""
    d = decide(p)
    return d.primary, d.plan, d.prerequisites, d.technique, d.keep


def cannot_change_advice(profile: Profile, fields: Iterable[str]) -> frozenset[str]:
    """The unanswered fields among `fields` whose every answer leaves the advice as it is."""
    p = profile_values(profile)
    candidates = [f for f in fields if p[FIELD_INDEX[f]] is None and f not in RULES.whatif.never]
    if not candidates:
        return frozenset()
    d = decide(p)
    now = (d.primary, d.plan, d.prerequisites, d.technique, d.keep)
    top = d.raw[d.primary]
    swings = _UNKNOWN_SWING[d.primary]
    skipped = set()
    for field in candidates:
        if field not in _READ:
            skipped.add(field)  # no rule reads it
            continue
        if FIELDS[field].kind == SET:
            continue  # any combination may be ticked: always ask
        index = FIELD_INDEX[field]
        if any(w >= top - d.raw[b] for b, w in swings.get(index, ())):
            continue  # its swing can close the lead: it may change the primary
        values = list(p)
        for rep in _REPS[field]:
            values[index] = rep
            if _advice(tuple(values)) != now:
                break
        else:
            skipped.add(field)
    return frozenset(skipped)
