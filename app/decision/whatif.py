"""what_would_change: the smallest single-answer changes that would change the primary.

Incremental: each field has a generated flip function that re-evaluates only the rules
reading that field (see flipgen.py). A field is skipped without evaluating anything when,
from its current answer, its largest possible swing (precomputed per answer class and
primary/rival pair) cannot close the primary's lead over any rival. The search stops early
once enough changes are found that no later field could undercut: counts come first, then
choice fields in profile order, and a choice change costs at least one step.

(A variant that generated one search function per primary with the bounds inlined was
faster in isolation but slower inside the whole batch: its bytecode crowded out the rest.)
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from app.decision.flipgen import CHOICE, COUNT, compile_flips
from app.decision.rules import RULES

MAX_CHANGES = 3
# (cost, field index, new value, new primary index)
Change = tuple[float, int, Any, int]
FLIPS = compile_flips(RULES)


def what_would_change(p: tuple[Any, ...], raw: list[int], primary: int, lead: int) -> list[Change]:
    """The cheapest change per field that makes another approach primary, cheapest first.

    `lead` is the primary's raw score minus the runner-up's.
    """
    top = raw[primary]
    gaps = [top - r for r in raw]
    found: list[Change] = []
    cheap = 0  # found changes that sort before anything a later choice field can offer
    for bound, kind, ts, table, flip, index, is_count in FLIPS[primary]:
        if bound < lead:
            continue
        if cheap >= MAX_CHANGES and not is_count:
            break
        value = p[index]
        if kind == CHOICE:
            key = value
        elif kind == COUNT:
            key = -1 if value is None else bisect_right(ts, value)
        else:
            key = None if value is None else frozenset(value)
        for b, w in table[key]:
            if w >= gaps[b]:
                break
        else:
            continue  # from this answer, no change of the field can overtake any rival
        hit = flip(p, raw, primary)
        if hit is not None:
            cost = hit[0]
            found.append((cost, index, hit[1], hit[2]))
            if cost < 1.0 or (cost == 1.0 and not is_count):
                cheap += 1
    if len(found) > 1:
        found.sort()  # (cost, field index) never ties: one change per field
    return found[:MAX_CHANGES]
