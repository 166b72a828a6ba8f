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

from bisect import bisect_left, bisect_right
from typing import Any

from app.decision.fields import FIELD_INDEX
from app.decision.flipgen import LIST, compile_flips
from app.decision.rules import RULES

MAX_CHANGES = 3
# (cost, field index, new value, new primary index)
Change = tuple[float, int, Any, int]
FLIPS = compile_flips(RULES)
# Per primary: the count fields and the choice fields (in search order), unpacked for the loop.
_NOBODY = ((0, -1),)  # no rival within reach: -1 is below every gap


def _reach(table: dict[Any, tuple[tuple[int, int], ...]]) -> dict[Any, tuple[tuple[int, int], ...]]:
    """Rival bounds per answer class, never empty, so the first pair holds the largest bound."""
    return {key: pairs or _NOBODY for key, pairs in table.items()}


# Per primary: the count fields and the choice fields (in search order), unpacked for the loop.
_MOVABLE = frozenset(
    FIELD_INDEX[f] for f in (*RULES.whatif.act_up, *RULES.whatif.act_to)
)  # fields whose known answers may change; the others are offered only while unknown
_SPLIT = tuple(
    (
        tuple((f[0], f[2], _reach(f[3]), f[4], f[5]) for f in entries if f[6]),
        tuple(
            (f[0], f[1] == LIST, _reach(f[3]), f[4], f[5], f[5] not in _MOVABLE)
            for f in entries
            if not f[6]
        ),
    )
    for entries in FLIPS
)


def _by_lead(
    counts: tuple[Any, ...], choices: tuple[Any, ...]
) -> tuple[list[int], list[tuple[tuple[Any, ...], tuple[Any, ...]]]]:
    """(the distinct field bounds, ascending; per position j in them, the counts and choices
    whose bound is at least bounds[j], in search order, and nothing past the last bound).

    A field whose largest swing is below the lead cannot change the primary: the search picks
    the fields that can with one bisect instead of testing each.
    """
    bounds = sorted({f[0] for f in (*counts, *choices)})
    parts = [
        (tuple(f for f in counts if f[0] >= b), tuple(f for f in choices if f[0] >= b))
        for b in bounds
    ]
    return bounds, [*parts, ((), ())]


_BY_LEAD = tuple(_by_lead(counts, choices) for counts, choices in _SPLIT)

# Per primary P: what each rung's score must reach to overtake P, as an offset from P's
# score: b > P must pass it, b < P (first maximum wins ties) only equal it. P's own offset is
# far below any score, so a change to P's score always runs the full argmax.
_BELOW_ANY = -(10**15)
_OVERTAKE = tuple(
    tuple(_BELOW_ANY if b == primary else int(b > primary) for b in range(len(FLIPS)))
    for primary in range(len(FLIPS))
)


def what_would_change(p: tuple[Any, ...], raw: list[int], primary: int, lead: int) -> list[Change]:
    """The cheapest change per field that makes another approach primary, cheapest first.

    `lead` is the primary's raw score minus the runner-up's.
    """
    top = raw[primary]
    r0, r1, r2, r3, r4, r5 = raw
    gaps = (top - r0, top - r1, top - r2, top - r3, top - r4, top - r5)  # no comprehension call
    o0, o1, o2, o3, o4, o5 = _OVERTAKE[primary]
    bars = (top + o0, top + o1, top + o2, top + o3, top + o4, top + o5)
    found: list[Change] = []
    bounds, parts = _BY_LEAD[primary]
    counts, choices = parts[bisect_left(bounds, lead)]
    cheap = 0  # found changes that sort before anything a later choice field can offer
    for _, ts, table, flip, index in counts:
        value = p[index]
        pairs = table[-1 if value is None else bisect_right(ts, value)]
        if pairs[0][1] < lead:
            continue  # every rival is at least `lead` behind
        for b, w in pairs:
            if w >= gaps[b]:
                break
        else:
            continue  # from this answer, no change of the field can overtake any rival
        hit = flip(p, raw, primary, bars)
        if hit is not None:
            found.append((hit[0], index, hit[1], hit[2]))
            if hit[0] < 1.0:
                cheap += 1
    for _, is_list, table, flip, index, only_unknown in choices:
        if cheap >= MAX_CHANGES:
            break  # later choice fields cost at least 1 and sort after these
        value = p[index]
        if value is not None:
            if only_unknown:
                continue  # a known fact about the team, not a lever
            if is_list:
                value = frozenset(value)
        pairs = table[value]
        if pairs[0][1] < lead:
            continue
        for b, w in pairs:
            if w >= gaps[b]:
                break
        else:
            continue
        hit = flip(p, raw, primary, bars)
        if hit is not None:
            found.append((hit[0], index, hit[1], hit[2]))
            if hit[0] <= 1.0:
                cheap += 1
    if len(found) > 1:
        found.sort()  # (cost, field index) never ties: one change per field
    return found[:MAX_CHANGES]
