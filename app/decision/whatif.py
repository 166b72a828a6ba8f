"""what_would_change: the smallest single-answer changes that would change the primary.

Incremental: each field has a generated flip function that re-evaluates only the rules
reading that field (see flipgen.py). A field is skipped without evaluating anything when,
from its current answer, its largest possible swing (precomputed per answer class and
primary/rival pair) cannot close the primary's lead over any rival. The search stops early
once enough changes are found that no later field could undercut: counts come first, then
choice fields in profile order, and a choice change costs at least one step.

The search itself is generated once per primary, with every bound inlined as a constant,
because a table-driven loop over ~25 fields cost as much as the flips it was pruning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.decision.compiler import N, build
from app.decision.flipgen import CHOICE, COUNT, FieldFlip, compile_flips
from app.decision.rules import RULES

MAX_CHANGES = 3
# (cost, field index, new value, new primary index)
Change = tuple[float, int, Any, int]
SearchFn = Callable[[tuple[Any, ...], list[int], int], list[Change]]


def _test(pairs: tuple[tuple[int, int], ...]) -> str | None:
    """The condition under which some rival is within reach, or None when none is."""
    return " or ".join(f"g{b} <= {w}" for b, w in pairs) or None


def _field_lines(entry: FieldFlip, primary: int, consts: dict[str, Any]) -> list[str]:
    """Lines that prune one field by its current class and call its flip function if needed."""
    bound, kind, ts, table, flip, index, is_count = entry
    consts[f"_f{index}"] = flip
    call = [
        f"            hit = _f{index}(p, raw, {primary})",
        "            if hit is not None:",
        f"                found.append((hit[0], {index}, hit[1], hit[2]))",
        "                if hit[0] < 1.0" + ("" if is_count else " or hit[0] == 1.0") + ":",
        "                    cheap += 1",
    ]
    lines = [f"    if lead <= {bound}:", f"        v = p[{index}]"]
    if kind in (CHOICE, COUNT):
        if kind == CHOICE:
            branches = [
                ("v is None" if key is None else f"v == {key!r}", pairs)
                for key, pairs in table.items()
            ]
        else:
            branches = [("v is None", table[-1])]
            branches += [
                (f"v < {ts[j]}" if j < len(ts) else "True", table[j]) for j in range(len(ts) + 1)
            ]
        keyword = "if"
        for cond, pairs in branches:
            test = _test(pairs)
            lines.append(f"        {keyword} {cond}:")
            lines += (
                [f"            if {test}:", *[f"    {x}" for x in call]]
                if test
                else ["            pass"]
            )
            keyword = "elif"
        return lines
    consts[f"_t{index}"] = {key: _test(pairs) is not None and pairs for key, pairs in table.items()}
    lines += [
        f"        pairs = _t{index}[None if v is None else frozenset(v)]",
        "        gaps = (" + ", ".join(f"g{b}" for b in range(N)) + ")",
        "        if pairs and any(gaps[b] <= w for b, w in pairs):",
        *call,
    ]
    return lines


def _compile_search(primary: int, entries: tuple[FieldFlip, ...]) -> SearchFn:
    """The what-if search for one primary approach."""
    consts: dict[str, Any] = {"_finish": _finish}
    lines = ["def search(p, raw, lead):", f"    top = raw[{primary}]"]
    lines += [f"    g{b} = top - raw[{b}]" for b in range(N)]
    lines += ["    found = []", "    cheap = 0"]
    for entry in entries:
        if not entry[6]:
            lines.append(f"    if cheap >= {MAX_CHANGES}: return _finish(found)")
        lines += _field_lines(entry, primary, consts)
    lines.append("    return _finish(found)")
    return build("search", lines, consts)


def _finish(found: list[Change]) -> list[Change]:
    """Cheapest first (ties: profile field order), at most MAX_CHANGES."""
    if len(found) > 1:
        found.sort()  # (cost, field index) never ties: one change per field
    return found[:MAX_CHANGES]


SEARCH: tuple[SearchFn, ...] = tuple(
    _compile_search(p, entries) for p, entries in enumerate(compile_flips(RULES))
)


def what_would_change(p: tuple[Any, ...], raw: list[int], primary: int, lead: int) -> list[Change]:
    """The cheapest change per field that makes another approach primary, cheapest first.

    `lead` is the primary's raw score minus the runner-up's.
    """
    return SEARCH[primary](p, raw, lead)
