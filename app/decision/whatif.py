"""what_would_change: the smallest single-answer changes that would change the primary.

Computed incrementally: only the rules that read the changed field are re-evaluated (one
compiled delta function per field), and fields whose largest possible swing cannot close
the lead of the primary over the runner-up are skipped without evaluating anything.
"""

from __future__ import annotations

import math
from typing import Any

from app.decision.compiler import COMPILED, FieldSwing
from app.decision.fields import ENUM, FIELDS, INT, ORDINAL, SET

MAX_CHANGES = 5
# (cost, field index, new value, new primary index)
Change = tuple[float, int, Any, int]
_CACHE: dict[tuple[int, Any], tuple[tuple[float, Any], ...]] = {}


def _int_candidates(cur: int | None, thresholds: tuple[int, ...]) -> list[tuple[float, Any]]:
    """The nearest value on the other side of each rule threshold; cost = orders of magnitude."""
    if cur is None:
        return [(1.0, v) for v in (0, *thresholds)]
    out = []
    for t in thresholds:
        v = t if cur < t else t - 1
        if v != cur:
            out.append((abs(math.log10((v + 1) / (cur + 1))), v))
    out.sort(key=lambda c: c[0])
    return out


def _choice_candidates(name: str, cur: Any) -> tuple[tuple[float, Any], ...]:
    """Other answers of an enum, bool or list field; one step on an ordered scale costs 1."""
    info = FIELDS[name]
    allowed = info.allowed or ()
    out: list[tuple[float, Any]] = []
    if info.kind == SET:
        if cur is None:
            out = [(1.0, ())] + [(1.0, (x,)) for x in allowed]
        else:
            have = set(cur)
            for x in allowed:
                new = have ^ {x}
                out.append((1.0, tuple(a for a in allowed if a in new)))
        return tuple(out)
    ordinal = info.kind == ENUM and name in ORDINAL and cur is not None
    for v in allowed:
        if v == cur:
            continue
        cost = abs(allowed.index(v) - allowed.index(cur)) if ordinal else 1.0
        out.append((float(cost), v))
    out.sort(key=lambda c: c[0])
    return tuple(out)


def candidates(swing: FieldSwing, cur: Any) -> tuple[tuple[float, Any], ...] | list[tuple[float, Any]]:
    """Candidate new values for a field, cheapest change first."""
    if FIELDS[swing.name].kind == INT:
        return _int_candidates(cur, swing.thresholds)
    key = (swing.index, cur)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = _choice_candidates(swing.name, cur)
    return found


def what_would_change(p: tuple[Any, ...], raw: list[float], primary: int) -> list[Change]:
    """The cheapest change per field that makes a different approach primary, best first."""
    top = raw[primary]
    lead = top - max(r for i, r in enumerate(raw) if i != primary)
    found: list[Change] = []
    for swing in COMPILED.swings:
        if swing.bound < lead:
            break  # swings are sorted: no later field can close the lead either
        delta = swing.delta
        cur = p[swing.index]
        c0, c1, c2, c3, c4, c5 = delta(p, cur)
        b0, b1, b2, b3, b4, b5 = raw
        base = (b0 - c0, b1 - c1, b2 - c2, b3 - c3, b4 - c4, b5 - c5)
        for cost, value in candidates(swing, cur):
            new = [b + d for b, d in zip(base, delta(p, value), strict=True)]
            best = max(range(6), key=new.__getitem__)  # first max: ties go to the cheaper one
            if best != primary:
                found.append((cost, swing.index, value, best))
                break
    found.sort(key=lambda c: (c[0], c[1]))
    return found[:MAX_CHANGES]
