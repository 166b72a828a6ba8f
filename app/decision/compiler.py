"""Compile the validated ruleset into plain Python functions once, at import time.

Rules become generated source (one `if` per rule) because straight-line code is several
times faster than interpreting rule tuples, and the engine must decide tens of thousands of
profiles a second. Scores are integer thousandths so that sums are exact in any order (the
what-if search adds the same weights in a different order than the scorer). Only validated
data reaches the generated code: field names come from the Profile, constants are passed in
as objects, weights are integers.
"""

from __future__ import annotations

import linecache
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.decision.conditions import Condition
from app.decision.fields import APPROACH_INDEX, BOOL, FIELD_INDEX, FIELDS, INT, SET
from app.decision.profile import APPROACHES, PROFILE_FIELDS
from app.decision.rules import RULES, RULES_PATH, SCALE, TRAINING, Rule, RulesetData

Values = tuple[Any, ...]
# score(p) -> (raw per approach, rules for it per approach, rules against it per approach,
# strong negative rules)
ScoreFn = Callable[
    [Values], tuple[list[int], tuple[list[int], ...], tuple[list[int], ...], list[int]]
]
N = len(APPROACHES)


def var(field: str) -> str:
    """The local variable holding a field's value in generated code."""
    return f"v_{field}"


def test_source(conds: Sequence[Condition], consts: dict[str, Any]) -> str:
    """The AND of conditions as one Python expression."""
    return " and ".join(f"({c.source(var(c.field), consts)})" for c in conds)


def load_lines(fields: Sequence[str] | set[str], skip: str | None = None) -> list[str]:
    """Lines binding field values from the values tuple `p` to locals, in profile order."""
    return [
        f"    {var(f)} = p[{FIELD_INDEX[f]}]" for f in PROFILE_FIELDS if f in fields and f != skip
    ]


_GENERATED: dict[str, int] = {}


def build(name: str, lines: list[str], consts: dict[str, Any]) -> Any:
    """Execute generated source and return the function it defines.

    The source is registered with linecache under a file name of its own (next to the rules
    file it comes from), so a traceback through generated code shows the generated lines.
    """
    count = _GENERATED[name] = _GENERATED.get(name, 0) + 1
    filename = str(RULES_PATH.with_name(f"generated_{name}_{count}.py"))
    source = "\n".join(lines) + "\n"
    # mtime None: linecache.checkcache keeps the entry although no such file exists on disk.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = dict(consts)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def _fields_of(conds: Sequence[Condition]) -> set[str]:
    return {c.field for c in conds}


def value_classes(field: str, thresholds: Sequence[int] = ()) -> list[tuple[str, Any]]:
    """(test on the field's variable, representative value) for every class of its values.

    Enum and bool fields: None and each value; counts: None and each bucket between the
    rule thresholds (every value in a bucket satisfies the same conditions).
    """
    info = FIELDS[field]
    name = var(field)
    out: list[tuple[str, Any]] = [(f"{name} is None", None)]
    if info.kind == INT:
        reps = [0, *thresholds]
        for j, rep in enumerate(reps):
            test = f"{name} < {reps[j + 1]}" if j + 1 < len(reps) else "True"
            out.append((test, rep))
    elif info.kind == BOOL:
        out += [(f"{name} is True", True), (f"{name} is False", False)]
    else:
        out += [(f"{name} == {v!r}", v) for v in info.allowed or ()]
    return out


def _thresholds(conds: Sequence[Condition]) -> tuple[int, ...]:
    return tuple(sorted({t for c in conds for t in c.thresholds() if t > 0}))


def _emit(
    rules: list[tuple[int, Rule, Condition]], consts: dict[str, Any], ind: str, why_not: int
) -> list[str]:
    """Lines applying rules whose anchor holds: merged constants, then the conditional ones."""
    lines = []
    plain: dict[int, list[tuple[int, int]]] = {}
    for k, rule, anchor in rules:
        rest = [c for c in rule.when if c is not anchor]
        ai = APPROACH_INDEX[rule.approach]
        if rest:
            side = "f" if rule.milli > 0 else "g"
            note = f"; wn.append({k})" if rule.milli <= why_not else ""
            lines += [
                f"{ind}if {test_source(rest, consts)}:",
                f"{ind}    r{ai} += {rule.milli}; {side}{ai}.append({k}){note}",
            ]
        else:
            plain.setdefault(ai, []).append((k, rule.milli))
    merged = []
    for ai, items in sorted(plain.items()):
        merged.append(f"{ind}r{ai} += {sum(w for _, w in items)}")
        pros = [k for k, w in items if w > 0]
        cons = [k for k, w in items if w <= 0]
        for side, part in (("f", pros), ("g", cons)):
            if part:
                merged.append(f"{ind}{side}{ai} += ({', '.join(map(str, part))},)")
        strong = [str(k) for k, w in items if w <= why_not]
        if strong:
            merged.append(f"{ind}wn += ({', '.join(strong)},)")
    return merged + lines


def compile_score(data: RulesetData) -> ScoreFn:
    """score(p) -> (raw score per approach, fired rules for / against each approach, strong
    negative fired rules).

    Rules are dispatched on the value of one of their fields (their anchor): one if/elif
    chain per field selects the class of its answer, and the constant rules of that class
    are merged into one addition per approach, so an answer costs a test or two, not one
    test per rule.
    """
    consts: dict[str, Any] = {}
    used = set().union(*(_fields_of(r.when) for r in data.rule))
    # One unpacking of the whole tuple is cheaper than a subscript per field.
    names = ", ".join(var(f) if f in used else "_" for f in PROFILE_FIELDS)
    lines = ["def score(p):", f"    ({names},) = p"]
    lines += [f"    r{i} = {round(data.base[a] * SCALE)}" for i, a in enumerate(APPROACHES)]
    lines += [f"    f{i} = []; g{i} = []" for i in range(N)] + ["    wn = []"]
    why_not = round(data.plan.why_not * SCALE)
    anchored: dict[str, list[tuple[int, Rule, Condition]]] = {}
    for k, rule in enumerate(data.rule):
        anchor = next((c for c in rule.when if FIELDS[c.field].kind != SET), rule.when[0])
        anchored.setdefault(anchor.field, []).append((k, rule, anchor))
    for field in PROFILE_FIELDS:
        rules = anchored.get(field, [])
        if not rules:
            continue
        if FIELDS[field].kind == SET:
            for k, rule, anchor in rules:
                lines.append(f"    if {test_source([anchor], consts)}:")
                lines += _emit([(k, rule, anchor)], consts, "        ", why_not)
            continue
        keyword = "if"
        for test, rep in value_classes(field, _thresholds([a for _, _, a in rules])):
            body = _emit([x for x in rules if x[2].test(rep)], consts, "        ", why_not)
            lines.append(f"    {keyword} {test}:")
            lines += body or ["        pass"]
            keyword = "elif"
    raw = ", ".join(f"r{i}" for i in range(N))
    fired = ", ".join(f"f{i}" for i in range(N))
    against = ", ".join(f"g{i}" for i in range(N))
    lines.append(f"    return [{raw}], ({fired}), ({against}), wn")
    return build("score", lines, consts)


def compile_prerequisites(data: RulesetData) -> Callable[[Values, list[int]], list[int]]:
    """prereq(p, plan) -> reason keys (rule count + index) of the first matching rule of each
    prerequisite id."""
    offset = len(data.rule)
    consts: dict[str, Any] = {}
    used = set().union(set(), *(_fields_of(p.when) for p in data.prerequisite))
    lines = ["def prereq(p, plan):", *load_lines(used), "    out = []"]
    for pid in dict.fromkeys(p.id for p in data.prerequisite):
        keyword = "if"
        for k, pre in enumerate(data.prerequisite):
            if pre.id != pid:
                continue
            test = test_source(pre.when, consts)
            if pre.plan_any:
                test += (
                    " and ("
                    + " or ".join(f"{APPROACH_INDEX[a]} in plan" for a in pre.plan_any)
                    + ")"
                )
            lines += [f"    {keyword} {test}:", f"        out.append({offset + k})"]
            keyword = "elif"
    lines.append("    return out")
    return build("prereq", lines, consts)


def compile_techniques(data: RulesetData) -> Callable[[Values, list[int]], dict[int, str]]:
    """tech(p, plan) -> {approach index: variant} for the training approaches in the plan."""
    consts: dict[str, Any] = {}
    used = set().union(set(), *(_fields_of(t.when) for t in data.technique))
    lines = ["def tech(p, plan):", *load_lines(used), "    out = {}"]
    for approach in TRAINING:
        ai = APPROACH_INDEX[approach]
        lines.append(f"    if {ai} in plan:")
        keyword = "if"
        for t in data.technique:
            if t.approach == approach:
                test = test_source(t.when, consts)
                lines += [f"        {keyword} {test}:", f"            out[{ai}] = {t.variant!r}"]
                keyword = "elif"
        default = f"out[{ai}] = {data.technique_default[approach]!r}"
        lines += (
            ["        else:", f"            {default}"]
            if keyword == "elif"
            else [f"        {default}"]
        )
    lines.append("    return out")
    return build("tech", lines, consts)


def compile_keep(data: RulesetData) -> Callable[[Values, list[int]], list[int]]:
    """keep(p, raw) -> indexes (into plan.keep) of the approaches in production that stay."""
    consts: dict[str, Any] = {}
    used = set().union(set(), *(_fields_of(k.when) for k in data.plan.keep))
    lines = ["def keep(p, raw):", *load_lines(used), "    out = []"]
    for j, k in enumerate(data.plan.keep):
        test = test_source(k.when, consts)
        if k.min_raw is not None:
            test += f" and raw[{APPROACH_INDEX[k.approach]}] >= {round(k.min_raw * SCALE)}"
        lines += [f"    if {test}:", f"        out.append({j})"]
    lines.append("    return out")
    return build("keep", lines, consts)


@dataclass(frozen=True, slots=True)
class Compiled:
    """Everything the engine needs, ready to call."""

    version: str
    score: ScoreFn
    squash: Callable[[int], float]
    prerequisites: Callable[[Values, list[int]], list[int]]
    techniques: Callable[[Values, list[int]], dict[int, str]]
    keep: Callable[[Values, list[int]], list[int]]


def compile_ruleset(data: RulesetData) -> Compiled:
    """Compile every part of a validated ruleset."""
    scale = data.scores.scale / SCALE
    exp = math.exp

    def squash(raw: int) -> float:
        """Map a raw score (thousandths) onto 0..1, keeping the order."""
        return round(1.0 - exp(-scale * raw), 3) if raw > 0 else 0.0

    return Compiled(
        data.ruleset,
        compile_score(data),
        squash,
        compile_prerequisites(data),
        compile_techniques(data),
        compile_keep(data),
    )


COMPILED: Compiled = compile_ruleset(RULES)
