"""what_would_change: the smallest single-answer changes that would change the primary.

Incremental: each field has a generated flip function that re-evaluates only the rules
reading that field (see flipgen.py). A field is skipped without evaluating anything when
its largest possible swing (precomputed per primary/rival pair) cannot close the primary's
lead over any rival. The search stops early once enough changes are found that no later
field could undercut: counts come first, then choice fields in profile order, and a choice
change costs at least one step.
"""

from __future__ import annotations

from typing import Any

from app.decision.flipgen import compile_flips
from app.decision.rules import RULES

MAX_CHANGES = 3
# (cost, field index, new value, new primary index)
Change = tuple[float, int, Any, int]
# Per primary: (bound, rival bounds, flip function, field index, is a count) in search order;
# plain tuples because unpacking them is cheaper than attribute access in the hot loop.
FLIPS = tuple(
    tuple((f.bound, f.pairs, f.flip, f.index, f.is_count) for f in per_primary)
    for per_primary in compile_flips(RULES)
)


def what_would_change(p: tuple[Any, ...], raw: list[int], primary: int, lead: int) -> list[Change]:
    """The cheapest change per field that makes another approach primary, cheapest first.

    `lead` is the primary's raw score minus the runner-up's.
    """
    top = raw[primary]
    gaps = [top - r for r in raw]
    found: list[Change] = []
    cheap = 0  # found changes that sort before anything a later choice field can offer
    for bound, pairs, flip, index, is_count in FLIPS[primary]:
        if bound < lead:
            continue
        if cheap >= MAX_CHANGES and not is_count:
            break
        for b, w in pairs:
            if w >= gaps[b]:
                break
        else:
            continue  # no rival is within this field's reach
        hit = flip(p, raw, primary)
        if hit is not None:
            cost = hit[0]
            found.append((cost, index, hit[1], hit[2]))
            if cost < 1.0 or (cost == 1.0 and not is_count):
                cheap += 1
    if len(found) > 1:
        found.sort(key=lambda c: (c[0], c[1]))
    return found[:MAX_CHANGES]
