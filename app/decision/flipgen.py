"""Generate, per profile field, a function that finds the cheapest change of that field which
changes the primary approach.

flip(p, raw, P, t) re-evaluates only the rules that read the field: rule parts on other
fields are evaluated once ("context"), the current contribution is subtracted, and each
candidate value is tried in order of cost; the argmax runs only for a candidate that lifts a
rung to its bar in t (see whatif.py). Scores are integer thousandths, so results equal a full
re-score exactly. It returns (cost, new value, new primary index) or None.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

from app.decision.compiler import N, build
from app.decision.conditions import Condition
from app.decision.fields import APPROACH_INDEX, BOOL, ENUM, FIELD_INDEX, FIELDS, INT, ORDINAL, SET
from app.decision.rules import RulesetData

FlipFn = Callable[..., tuple[float, Any, int] | None]


def may_move(data: RulesetData, field: str, cur: Any, new: Any) -> bool:
    """Whether "what would change this" may offer changing `field` from `cur` to `new`.

    An unknown answer may become any answer (measure it), except for fields never offered
    (the gap itself). A known answer moves only where the user can act: counts grow, ordered
    choices move later in their list, lists gain values (`act_up`), or it reaches one of the
    `act_to` targets from any other answer. Everything else is a fact about the team.
    """
    whatif = data.whatif
    if field in whatif.never or new == cur:
        return False
    if cur is None:
        return True
    if field in whatif.act_up:
        info = FIELDS[field]
        if info.kind == INT:
            return bool(new > cur)
        if info.kind == SET:
            return set(cur) < set(new)
        allowed = info.allowed or ()
        return allowed.index(new) > allowed.index(cur)
    targets = whatif.act_to.get(field)
    return bool(targets) and cur not in targets and new in targets  # type: ignore[operator]


def log_cost(value: int, cur: int) -> float:
    """Cost of changing a count: orders of magnitude moved."""
    return abs(math.log10((value + 1) / (cur + 1)))


class _Term:
    """One rule reading the field: its approach, its conditions on the field, its weight term."""

    def __init__(self, approach: int, own: list[Condition], weight: int, term: str) -> None:
        self.approach, self.own, self.weight, self.term = approach, own, weight, term

    def holds(self, value: Any) -> bool:
        """Whether the rule's conditions on this field hold for a value."""
        return all(c.test(value) for c in self.own)


def _terms(
    data: RulesetData, field: str, consts: dict[str, Any]
) -> tuple[list[_Term], dict[str, tuple[str, str, str]]]:
    """The field's rules as terms; rules with conditions on other fields get a context term
    m<k> (the weight if the other conditions hold, else 0), defined only where used.

    defs: term -> (weight, name of its context test, source of that test); rules sharing the
    same other-field conditions share one test (k<j>), evaluated once.
    """
    terms, defs = [], {}
    tests: dict[tuple[Any, ...], tuple[str, str]] = {}
    for k in data.rules_by_field[field]:
        rule = data.rule[k]
        own = [c for c in rule.when if c.field == field]
        ctx = [c for c in rule.when if c.field != field]
        term = str(rule.milli)
        if ctx:
            term = f"m{k}"
            key = tuple((c.field, c.op, repr(getattr(c, c.op))) for c in ctx)
            if key not in tests:
                src = " and ".join(
                    f"({c.source(f'p[{FIELD_INDEX[c.field]}]', consts)})" for c in ctx
                )
                tests[key] = (f"k{len(tests)}", src)
            defs[term] = (str(rule.milli), *tests[key])
        terms.append(_Term(APPROACH_INDEX[rule.approach], own, rule.milli, term))
    return terms, defs


def _parts(terms: list[_Term], approach: int, value: Any) -> tuple[int, list[str]]:
    """Contribution to `approach` at a value known at generation time: constant + context terms."""
    hold = [t for t in terms if t.approach == approach and t.holds(value)]
    return sum(t.weight for t in hold if not t.term.startswith("m")), [
        t.term for t in hold if t.term.startswith("m")
    ]


def _static_delta(
    terms: list[_Term], approach: int, cur: Any, new: Any, used: set[str]
) -> str | None:
    """The new score of `approach` as r<a> plus the change, folded; None when unchanged."""
    c_const, c_vars = _parts(terms, approach, cur)
    n_const, n_vars = _parts(terms, approach, new)
    plus = [x for x in n_vars if x not in c_vars]
    minus = [x for x in c_vars if x not in n_vars]
    if n_const == c_const and not plus and not minus:
        return None
    used.update(plus, minus)
    expr = f"r{approach}" + (f" + {n_const - c_const}" if n_const != c_const else "")
    return expr + "".join(f" + {x}" for x in plus) + "".join(f" - {x}" for x in minus)


_T_UNPACK = "    t0, t1, t2, t3, t4, t5 = t"


def _winner(names: list[str], ind: str) -> list[str]:
    """Lines setting w to the index of the highest score (first wins ties)."""
    lines = [f"{ind}w = 0; m = {names[0]}"]
    lines += [f"{ind}if {names[i]} > m: w = {i}; m = {names[i]}" for i in range(1, N)]
    return [*lines, f"{ind}if m <= 0: w = 0"]  # no rung with a need: prompting comes first


def _try(
    terms: list[_Term], affected: list[int], cur: Any, new: Any, ind: str, used: set[str]
) -> list[str]:
    """Lines scoring one candidate (the current class is known at generation time), then,
    under a test that holds whenever the primary could change, the argmax w; no lines when
    the candidate changes no score.

    t<b> is the least score with which rung b could overtake the primary (the primary's own
    t is below any score: when its score changes, the argmax always runs; see whatif.py).
    """
    lines, changed = [], []
    for a in range(N):
        expr = _static_delta(terms, a, cur, new, used) if a in affected else None
        if expr is not None:
            lines.append(f"{ind}n{a} = {expr}")
            changed.append(a)
    if not changed:
        return []
    guard = " or ".join(f"n{a} >= t{a}" for a in changed)
    names = [f"n{a}" if a in changed else f"r{a}" for a in range(N)]
    return [*lines, f"{ind}if {guard}:", *_winner(names, ind + "    ")]


def _with_defs(
    steps: list[tuple[set[str], list[str]]], defs: dict[str, tuple[str, str, str]], ind: str
) -> list[str]:
    """The candidates' lines, each preceded by the context terms it reads first.

    A term is defined just before the first candidate that reads it, so a candidate that
    returns early skips the terms only later ones read. A test read by a single term is
    written into that term (no local to store and load); shared tests get a local, once.
    """
    uses = Counter(defs[name][1] for name in set().union(*(used for used, _ in steps)))
    defined: set[str] = set()
    tested: set[str] = set()
    out: list[str] = []
    for used, lines in steps:
        for name in sorted(used - defined, key=lambda n: int(n[1:])):
            weight, test, src = defs[name]
            if uses[test] > 1:
                if test not in tested:
                    tested.add(test)
                    out.append(f"{ind}{test} = {src}")
                src = test
            out.append(f"{ind}{name} = {weight} if {src} else 0")
        defined |= used
        out += lines
    return out


def _choice_branch(
    terms: list[_Term],
    affected: list[int],
    defs: dict[str, tuple[str, str, str]],
    cur: Any,
    cands: list[tuple[float, Any]],
    ind: str,
) -> list[str]:
    """Try candidates in cost order; return the first that changes the primary."""
    steps = []
    for cost, v in cands:
        used: set[str] = set()
        lines = _try(terms, affected, cur, v, ind, used)
        if lines:  # else it changes no score, so not the primary either
            lines.append(f"{ind}    if w != P: return ({float(cost)!r}, {v!r}, w)")
            steps.append((used, lines))
    return [*_with_defs(steps, defs, ind), f"{ind}return None"]


def _count_branch(
    terms: list[_Term],
    affected: list[int],
    defs: dict[str, tuple[str, str, str]],
    rep: int,
    ups: list[int],
    downs: list[int],
    ind: str,
) -> list[str]:
    """Nearest thresholds first in each direction; the cheaper of the two first hits wins.

    Each direction's loop defines the context terms it reads itself: a loop may leave early.
    """
    body = [f"{ind}best = None"]
    for direction in (ups, downs):
        if not direction:
            continue
        steps = []
        for v in direction:
            used: set[str] = set()
            lines = _try(terms, affected, rep, v, ind + "    ", used)
            if not lines:
                continue  # it changes no score, so not the primary either
            lines += [
                f"{ind}        if w != P:",
                f"{ind}            c = _lc({v}, cur)",
                f"{ind}            if best is None or c < best[0]:",
                f"{ind}                best = (c, {v}, w)",
                f"{ind}            break",
            ]
            steps.append((used, lines))
        body += [f"{ind}while True:", *_with_defs(steps, defs, ind + "    "), f"{ind}    break"]
    return [*body, f"{ind}return best"]


def _subsets(allowed: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Every subset of a list field's values, in the field's order."""
    return [
        tuple(a for a, keep in zip(allowed, mask, strict=True) if keep)
        for mask in itertools.product((False, True), repeat=len(allowed))
    ]


def _set_flip(data: RulesetData, field: str) -> FlipFn:
    """A list field: one generated function per current subset, picked by a dict lookup."""
    allowed = FIELDS[field].allowed or ()
    consts: dict[str, Any] = {}
    terms, defs = _terms(data, field, consts)
    affected = sorted({t.approach for t in terms})
    table: dict[Any, FlipFn] = {}
    for cur in [None, *_subsets(allowed)]:
        if cur is None:
            cands = [(1.0, ()), *((1.0, (x,)) for x in allowed)]
        else:
            cands = [(1.0, tuple(a for a in allowed if (a in cur) != (a == x))) for x in allowed]
            cands = [(c, v) for c, v in cands if may_move(data, field, cur, v)]
        lines = ["def flip(p, r, P, t):", "    r0, r1, r2, r3, r4, r5 = r", _T_UNPACK]
        lines += _choice_branch(terms, affected, defs, cur, cands, "    ")
        table[None if cur is None else frozenset(cur)] = build("flip", lines, consts)
    index = FIELD_INDEX[field]

    def flip(
        p: tuple[Any, ...], r: list[int], primary: int, t: tuple[int, ...]
    ) -> tuple[float, Any, int] | None:
        """Dispatch on the current set of values."""
        cur = p[index]
        return table[None if cur is None else frozenset(cur)](p, r, primary, t)

    return flip


def compile_flip(data: RulesetData, field: str, thresholds: tuple[int, ...]) -> FlipFn:
    """The flip function of one field (see module docstring)."""
    info = FIELDS[field]
    if info.kind == SET:
        return _set_flip(data, field)
    consts: dict[str, Any] = {"_lc": log_cost}
    terms, defs = _terms(data, field, consts)
    affected = sorted({t.approach for t in terms})
    lines = ["def flip(p, r, P, t):", "    r0, r1, r2, r3, r4, r5 = r", _T_UNPACK]
    lines.append(f"    cur = p[{FIELD_INDEX[field]}]")
    ind = "        "
    if info.kind == INT:
        ts = thresholds
        reps = [0, *ts]  # one representative value per bucket between thresholds
        lines.append("    if cur is None:")
        lines += _choice_branch(terms, affected, defs, None, [(1.0, v) for v in reps], ind)
        grows = field in data.whatif.act_up
        for j, rep in enumerate(reps):
            test = f"cur < {ts[j]}" if j < len(ts) else "True"
            lines.append(f"    elif {test}:")
            if not grows:
                lines.append(f"{ind}return None")  # a count the user cannot change
                continue
            lines += _count_branch(terms, affected, defs, rep, list(ts[j:]), [], ind)
        return build("flip", lines, consts)

    allowed = info.allowed or ()
    for j, cur in enumerate([None, *allowed]):
        if cur is None:
            test = "cur is None"
        else:
            test = f"cur is {cur!r}" if info.kind == BOOL else f"cur == {cur!r}"
        lines.append(f"    {'if' if j == 0 else 'elif'} {test}:")
        ordinal = info.kind == ENUM and field in ORDINAL and cur is not None
        cands = [
            (float(abs(allowed.index(v) - allowed.index(cur)) if ordinal else 1), v)
            for v in allowed
            if v != cur and may_move(data, field, cur, v)
        ]
        cands.sort(key=lambda c: c[0])
        lines += _choice_branch(terms, affected, defs, cur, cands, ind)
    lines.append("    return None")
    return build("flip", lines, consts)


def _classes(field: str, thresholds: tuple[int, ...]) -> list[tuple[Any, Any]]:
    """(lookup key, representative value) of every class of values the rules tell apart.

    Keys are what the search computes at run time: the value itself for choices, the
    bisect position among the thresholds for counts (-1 when unknown), a frozenset for lists.
    """
    info = FIELDS[field]
    if info.kind == INT:
        return [(-1, None), *((j, rep) for j, rep in enumerate((0, *thresholds)))]
    if info.kind == SET:
        return [(None, None), *((frozenset(s), s) for s in _subsets(info.allowed or ()))]
    return [(v, v) for v in (None, *(info.allowed or ()))]


def _neighbours(field: str, cur: Any, reps: list[Any]) -> list[Any]:
    """The representatives a single answer change can reach from `cur`."""
    if FIELDS[field].kind == SET:
        allowed = FIELDS[field].allowed or ()
        if cur is None:
            return [(), *((x,) for x in allowed)]
        return [tuple(a for a in allowed if (a in cur) != (a == x)) for x in allowed]
    return [v for v in reps if v is not None and v != cur]


def _hi_lo(data: RulesetData, field: str, value: Any) -> tuple[list[int], list[int]]:
    """Per approach, the most and least the field's rules can add at a value, whatever the
    other fields are (rules that also need other fields may or may not fire)."""
    hi, lo = [0] * N, [0] * N
    for k in data.rules_by_field[field]:
        rule = data.rule[k]
        if all(c.test(value) for c in rule.when if c.field == field):
            a = APPROACH_INDEX[rule.approach]
            single = all(c.field == field for c in rule.when)
            hi[a] += rule.milli if single else max(rule.milli, 0)
            lo[a] += rule.milli if single else min(rule.milli, 0)
    return hi, lo


def class_bounds(
    data: RulesetData, field: str, thresholds: tuple[int, ...]
) -> dict[Any, list[list[int]]]:
    """Per current class: W[P][b], the most one change of the field can raise b against P."""
    classes = _classes(field, thresholds)
    reps = [rep for _, rep in classes]
    hl = {repr(rep): _hi_lo(data, field, rep) for rep in reps}
    out = {}
    for key, cur in classes:
        c_hi, c_lo = hl[repr(cur)]
        targets = [hl[repr(v)] for v in _neighbours(field, cur, reps)]
        out[key] = [
            [
                max((hi[b] - lo[p] for hi, lo in targets), default=0) - (c_lo[b] - c_hi[p])
                for b in range(N)
            ]
            for p in range(N)
        ]
    return out


def int_thresholds(data: RulesetData, field: str) -> tuple[int, ...]:
    """The integer boundaries the rules split a count field on."""
    found: set[int] = set()
    for k in data.rules_by_field[field]:
        for c in data.rule[k].when:
            if c.field == field:
                found.update(c.thresholds())
    return tuple(sorted(t for t in found if t > 0))


CHOICE, COUNT, LIST = 0, 1, 2  # how the search turns a field's value into its class key
# Per field, for one primary: (bound over all classes, key kind, thresholds,
# {class key: ((rival, bound), ...) largest first}, flip function, field index, is a count).
FieldFlip = tuple[
    int, int, tuple[int, ...], dict[Any, tuple[tuple[int, int], ...]], FlipFn, int, bool
]


def compile_flips(data: RulesetData) -> tuple[tuple[FieldFlip, ...], ...]:
    """Per primary index: the fields that could change it, in search order."""
    per_primary: list[list[FieldFlip]] = [[] for _ in range(N)]
    for field in FIELDS:
        if not data.rules_by_field[field] or field in data.whatif.never:
            continue
        kind = {INT: COUNT, SET: LIST}.get(FIELDS[field].kind, CHOICE)
        ts = int_thresholds(data, field) if kind == COUNT else ()
        fn = compile_flip(data, field, ts)
        bounds = class_bounds(data, field, ts)
        movable = field in data.whatif.act_up or field in data.whatif.act_to
        for p in range(N):
            table = {
                key: tuple(
                    sorted(
                        ((b, w) for b, w in enumerate(w_by_p[p]) if b != p and w > 0),
                        key=lambda x: -x[1],
                    )
                )
                # A known answer the user cannot act on offers nothing: skip it at once.
                if movable or key is None or key == -1
                else ()
                for key, w_by_p in bounds.items()
            }
            bound = max((pairs[0][1] for pairs in table.values() if pairs), default=0)
            if bound > 0:
                entry = (bound, kind, ts, table, fn, FIELD_INDEX[field], kind == COUNT)
                per_primary[p].append(entry)
    # Counts first (their changes can cost less than one step), then choice fields in profile
    # order, so the search can stop once enough cheap changes are found (see whatif.py).
    return tuple(tuple(sorted(fs, key=lambda f: (not f[6], f[5]))) for fs in per_primary)
