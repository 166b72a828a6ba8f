"""Compile the validated ruleset into plain Python functions once, at import time.

The rules are turned into generated source (one `if` per rule) because a straight-line
function is several times faster than interpreting rule tuples, and the engine must decide
tens of thousands of profiles a second. Only validated data reaches the generated code:
field names come from the Profile, constants are passed in as objects, weights are floats.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.decision.conditions import Condition
from app.decision.fields import APPROACH_INDEX, FIELD_INDEX, FIELDS, INT
from app.decision.profile import APPROACHES, PROFILE_FIELDS
from app.decision.rules import RULES, Rule, RulesetData

Values = tuple[Any, ...]
ScoreFn = Callable[[Values], tuple[list[float], list[int]]]
DeltaFn = Callable[[Values, Any], tuple[float, ...]]
Predicate = Callable[[Values], bool]
N = len(APPROACHES)


def _var(field: str) -> str:
    """The local variable holding a field's value in generated code."""
    return f"v_{field}"


def _test(conds: Sequence[Condition], consts: dict[str, Any]) -> str:
    """The AND of conditions as one Python expression."""
    return " and ".join(f"({c.source(_var(c.field), consts)})" for c in conds)


def _loads(fields: Sequence[str], skip: str | None = None) -> list[str]:
    """Lines binding field values from the values tuple `p` to locals."""
    return [f"    {_var(f)} = p[{FIELD_INDEX[f]}]" for f in fields if f != skip]


def _build(name: str, lines: list[str], consts: dict[str, Any]) -> Any:
    """Execute generated source and return the function it defines."""
    namespace: dict[str, Any] = dict(consts)
    exec(compile("\n".join(lines), f"<ruleset:{name}>", "exec"), namespace)
    return namespace[name]


def _used_fields(rules: Sequence[Rule]) -> list[str]:
    """Fields read by any of the rules, in profile order."""
    used = {f for r in rules for f in r.fields}
    return [f for f in PROFILE_FIELDS if f in used]


def compile_score(data: RulesetData) -> ScoreFn:
    """score(p) -> (raw scores per approach, indexes of the rules that fired)."""
    consts: dict[str, Any] = {}
    lines = ["def score(p):", *_loads(_used_fields(data.rule))]
    lines += [f"    r{i} = {float(data.base[a])!r}" for i, a in enumerate(APPROACHES)]
    lines += ["    fired = []", "    add = fired.append"]
    for k, rule in enumerate(data.rule):
        lines.append(f"    if {_test(rule.when, consts)}:")
        lines.append(f"        r{APPROACH_INDEX[rule.approach]} += {rule.weight!r}; add({k})")
    lines.append(f"    return [{', '.join(f'r{i}' for i in range(N))}], fired")
    return _build("score", lines, consts)  # type: ignore[no-any-return]


def compile_delta(data: RulesetData, field: str) -> DeltaFn:
    """delta(p, v) -> the summed weights, per approach, of the rules reading `field` if it were v."""
    rules = [data.rule[i] for i in data.rules_by_field[field]]
    consts: dict[str, Any] = {}
    lines = ["def delta(p, v):", f"    {_var(field)} = v", *_loads(_used_fields(rules), field)]
    lines += [f"    r{i} = 0.0" for i in range(N)]
    for rule in rules:
        lines.append(f"    if {_test(rule.when, consts)}:")
        lines.append(f"        r{APPROACH_INDEX[rule.approach]} += {rule.weight!r}")
    lines.append(f"    return ({', '.join(f'r{i}' for i in range(N))})")
    return _build("delta", lines, consts)  # type: ignore[no-any-return]


def compile_predicate(conds: Sequence[Condition]) -> Predicate:
    """pred(p) -> whether all conditions hold on the values tuple."""
    consts: dict[str, Any] = {}
    fields = [f for f in PROFILE_FIELDS if f in {c.field for c in conds}]
    lines = ["def pred(p):", *_loads(fields), f"    return bool({_test(conds, consts)})"]
    return _build("pred", lines, consts)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class FieldSwing:
    """How far one field can move the scores, for pruning what-if searches."""

    index: int
    name: str
    bound: float  # no change of this field moves (runner-up - primary) by more than this
    delta: DeltaFn
    thresholds: tuple[int, ...]


def _swing(data: RulesetData, field: str) -> FieldSwing:
    """Bound a field's effect: per approach, the sum of |weight| of the rules reading it."""
    span = [0.0] * N
    thresholds: set[int] = set()
    for i in data.rules_by_field[field]:
        rule = data.rule[i]
        span[APPROACH_INDEX[rule.approach]] += abs(rule.weight)
        for c in rule.when:
            if c.field == field:
                thresholds.update(c.thresholds())
    ordered = sorted(span, reverse=True)
    bound = ordered[0] + ordered[1] if N > 1 else ordered[0]
    ts = tuple(sorted(t for t in thresholds if t > 0)) if FIELDS[field].kind == INT else ()
    return FieldSwing(FIELD_INDEX[field], field, bound + 1e-9, compile_delta(data, field), ts)


@dataclass(frozen=True, slots=True)
class Compiled:
    """Everything the engine needs, ready to call."""

    version: str
    score: ScoreFn
    squash: Callable[[float], float]
    swings: tuple[FieldSwing, ...]  # fields that some rule reads, largest bound first
    prerequisites: tuple[tuple[str, Predicate, frozenset[int], int], ...]
    techniques: dict[int, tuple[tuple[str, Predicate], ...]]
    technique_default: dict[int, str]


def compile_ruleset(data: RulesetData) -> Compiled:
    """Compile every part of a validated ruleset."""
    scale = data.scores.scale

    def squash(raw: float) -> float:
        """Map a raw additive score onto 0..1, keeping the order."""
        return round(1.0 - math.exp(-scale * raw), 3) if raw > 0 else 0.0

    swings = sorted(
        (_swing(data, f) for f in PROFILE_FIELDS if data.rules_by_field[f]),
        key=lambda s: (-s.bound, s.index),
    )
    prereqs = tuple(
        (
            pre.id,
            compile_predicate(pre.when),
            frozenset(APPROACH_INDEX[a] for a in pre.plan_any),
            k,
        )
        for k, pre in enumerate(data.prerequisite)
    )
    techniques: dict[int, tuple[tuple[str, Predicate], ...]] = {}
    for t in data.technique:
        ai = APPROACH_INDEX[t.approach]
        techniques[ai] = (*techniques.get(ai, ()), (t.variant, compile_predicate(t.when)))
    defaults = {APPROACH_INDEX[a]: v for a, v in data.technique_default.items()}
    return Compiled(
        data.ruleset, compile_score(data), squash, tuple(swings), prereqs, techniques, defaults
    )


COMPILED: Compiled = compile_ruleset(RULES)
