"""Turn a Decision (plain indexes) into a Recommendation model or its JSON line, fast."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from app.decision.compiler import COMPILED
from app.decision.fields import FIELD_INDEX
from app.decision.profile import APPROACHES
from app.decision.recommendation import Change, Reason, Recommendation
from app.decision.rules import RULES
from app.decision.whatif import Change as ChangeTuple

_SQUASH = COMPILED.squash
_FIELDS = tuple(FIELD_INDEX)


class Decision(NamedTuple):
    """The engine's answer as plain indexes, rendered to a model or JSON below.

    Read-only: the plan list and technique dict may be shared between decisions.
    """

    primary: int
    plan: list[int]
    raw: list[int]
    prerequisites: list[int]  # reason keys of the prerequisite rules that applied, one per id
    confidence: float
    reasons: list[int]  # reason keys: rule index, or PREREQUISITE/FALLBACK/COMPANION + index
    changes: list[ChangeTuple]
    technique: dict[int, str]
    recipe: str | None
    values: tuple[Any, ...]
    keep: list[int]  # rungs already in production that stay in the plan (never the primary)


def human(value: Any) -> str:
    """An answer as a user would say it, for {value} in reason text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        return ", ".join(human(v) for v in value) or "none"
    return str(value).replace("_", " ")


class _Spec(NamedTuple):
    approach: str | None
    effect: str
    field: str
    text: str
    templated: bool


# Reason keys: a scoring rule's index, or one of these offsets plus an index.
PREREQUISITE = len(RULES.rule)
FALLBACK = PREREQUISITE + len(RULES.prerequisite)
COMPANION = FALLBACK + len(APPROACHES)
KEEP = COMPANION + len(RULES.plan.companion)


def _specs() -> list[_Spec]:
    """Every reason the ruleset can give, indexed by reason key."""
    out: list[_Spec] = []
    for r in RULES.rule:
        effect = "+" if r.weight > 0 else "-"
        out.append(_Spec(r.approach, effect, r.cited, r.reason, "{value}" in r.reason))
    for pre in RULES.prerequisite:
        out.append(_Spec(None, "!", pre.cited, pre.reason, "{value}" in pre.reason))
    for a in APPROACHES:
        fb = RULES.fallback_reason[a]
        out.append(_Spec(a, "+", fb.field, fb.text, False))
    for c in RULES.plan.companion:
        out.append(_Spec(c.add, "+", c.field, c.reason, False))
    for k in RULES.plan.keep:
        out.append(_Spec(k.approach, "+", k.field, k.reason, False))
    return out


_SPECS = _specs()
_PREREQ_IDS = tuple(pre.id for pre in RULES.prerequisite)


def _reason_json(spec: _Spec, text: str) -> str:
    """One reason as a JSON object, in Reason's field order."""
    approach = "null" if spec.approach is None else f'"{spec.approach}"'
    return (
        f'{{"approach":{approach},"effect":"{spec.effect}","field":"{spec.field}",'
        f'"text":{json.dumps(text, ensure_ascii=False)}}}'
    )


# Reasons without {value} never change: build their model and JSON once.
_FIXED_MODEL: list[Reason | None] = [
    None
    if s.templated
    else Reason(approach=s.approach, effect=s.effect, field=s.field, text=s.text)
    for s in _SPECS
]
_FIXED_JSON = [None if s.templated else _reason_json(s, s.text) for s in _SPECS]


def _split_template(spec: _Spec) -> tuple[str, int, str]:
    """A templated reason as (JSON before the value, field index, JSON after the value).

    Substituted values are numbers and ids, which never need JSON escaping.
    """
    head = _reason_json(spec, spec.text.replace("{value}", "\x00"))
    before, after = head.split("\\u0000", 1)
    return before, FIELD_INDEX[spec.field], after


_TEMPLATE_JSON = [_split_template(s) if s.templated else None for s in _SPECS]
_Q = tuple(f'"{a}"' for a in APPROACHES)
_QPRE = tuple(f'"{p}"' for p in ("",) * PREREQUISITE + _PREREQ_IDS)  # by reason key
_QFIELD = tuple(f'{{"field":"{f}","to":' for f in _FIELDS)
_QPRIMARY = tuple(f',"primary":"{a}"}}' for a in APPROACHES)


class _Scores(dict[int, float]):
    """Display score per raw score, filled on first use (raw scores repeat a lot)."""

    def __missing__(self, raw: int) -> float:
        value = self[raw] = _SQUASH(raw)
        return value


class _ScoreTexts(dict[int, str]):
    """'"approach":score' per raw score, filled on first use."""

    def __init__(self, approach: str) -> None:
        super().__init__()
        self.head = f'"{approach}":'

    def __missing__(self, raw: int) -> str:
        text = self[raw] = self.head + repr(_SCORE[raw])
        return text


class _Templated(dict[tuple[int, Any], str]):
    """JSON of a reason with {value} filled in, per (reason key, value), filled on first use."""

    def __missing__(self, key: tuple[int, Any]) -> str:
        before, _, after = _TEMPLATE_JSON[key[0]]  # type: ignore[misc]
        value = key[1]
        if type(value) is int:  # counts are unbounded: format them, do not keep them
            return f"{before}{value:,}{after}"
        text = self[key] = before + human(value) + after
        return text


class _Changes(dict[tuple[int, Any, int], str]):
    """JSON of one what-if change, filled on first use (values are thresholds and choices)."""

    def __missing__(self, key: tuple[int, Any, int]) -> str:
        field, value, primary = key
        text = self[key] = _QFIELD[field] + _json_value(value) + _QPRIMARY[primary]
        return text


_SCORE = _Scores()
_S0, _S1, _S2, _S3, _S4, _S5 = (_ScoreTexts(a) for a in APPROACHES)
_TEMPLATED = _Templated()
_TFIELD = tuple(t[1] if t else -1 for t in _TEMPLATE_JSON)
_CHANGES = _Changes()


def _text(spec: _Spec, values: tuple[Any, ...]) -> str:
    """Fill {value} with the user's answer for the cited field."""
    return spec.text.replace("{value}", human(values[FIELD_INDEX[spec.field]]))


def _to_value(value: Any) -> Any:
    """A what-if value as the profile would hold it in JSON (lists, not tuples)."""
    return list(value) if isinstance(value, tuple) else value


def _fast(cls: Any, data: dict[str, Any]) -> Any:
    """Build a model from already-valid data without validation (the engine's own output)."""
    obj = cls.__new__(cls)
    object.__setattr__(obj, "__dict__", data)
    object.__setattr__(obj, "__pydantic_fields_set__", set(data))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _reason_model(key: int, values: tuple[Any, ...]) -> Reason:
    """A reason with {value} filled in, as a model."""
    s = _SPECS[key]
    data = {"approach": s.approach, "effect": s.effect, "field": s.field, "text": _text(s, values)}
    return _fast(Reason, data)


def to_model(d: Decision) -> Recommendation:
    """The Recommendation model for a decision."""
    values = d.values
    raw = d.raw
    data = {
        "primary": APPROACHES[d.primary],
        "plan": [APPROACHES[i] for i in d.plan],
        "scores": {a: _SCORE[raw[i]] for i, a in enumerate(APPROACHES)},
        "prerequisites": [_PREREQ_IDS[k - PREREQUISITE] for k in d.prerequisites],
        "confidence": d.confidence,
        "reasons": [_FIXED_MODEL[k] or _reason_model(k, values) for k in d.reasons],
        "what_would_change": [
            _fast(Change, {"field": _FIELDS[f], "to": _to_value(v), "primary": APPROACHES[b]})
            for _, f, v, b in d.changes
        ],
        "technique": {APPROACHES[i]: v for i, v in d.technique.items()},
        "recipe": d.recipe,
        "ruleset": COMPILED.version,
        "keep": [APPROACHES[i] for i in d.keep],
    }
    return _fast(Recommendation, data)


def _json_value(value: Any) -> str:
    """A profile value as JSON; enum ids are plain ASCII, so no escaping is needed."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ",".join([f'"{v}"' for v in value]) + "]"
    return f'"{value}"'


_VERSION = RULES.ruleset


# Recipe id -> its JSON, for every recipe the ruleset names.
_RECIPE_JSON: dict[str | None, str] = {None: "null"}
for _table in RULES.recipes.values():
    _RECIPE_JSON.update({r: f'"{r}"' for r in _table.values()})
_CONFIDENCE_JSON = {n / 100: repr(n / 100) for n in range(101)}  # confidence has 2 decimals


def to_json(d: Decision) -> str:
    """The decision as the same JSON line Recommendation.model_dump_json() would give."""
    primary, plan, raw, pre, confidence, keys, changes, technique, recipe, values, keep = d
    r0, r1, r2, r3, r4, r5 = raw
    fixed, templated, tfield = _FIXED_JSON, _TEMPLATED, _TFIELD
    reasons = ",".join([fixed[k] or templated[k, values[tfield[k]]] for k in keys])
    change_json = ",".join([_CHANGES[f, v, b] for _, f, v, b in changes]) if changes else ""
    tech_json = ",".join([f'{_Q[i]}:"{v}"' for i, v in technique.items()]) if technique else ""
    plan_json = _Q[plan[0]] if len(plan) == 1 else ",".join([_Q[i] for i in plan])
    pre_json = ",".join([_QPRE[k] for k in pre]) if pre else ""
    conf_json = _CONFIDENCE_JSON.get(confidence) or repr(confidence)
    return (
        f'{{"primary":{_Q[primary]},"plan":[{plan_json}],'
        f'"scores":{{{_S0[r0]},{_S1[r1]},{_S2[r2]},{_S3[r3]},{_S4[r4]},{_S5[r5]}}},'
        f'"prerequisites":[{pre_json}],'
        f'"confidence":{conf_json},"reasons":[{reasons}],"what_would_change":[{change_json}],'
        f'"technique":{{{tech_json}}},"recipe":{_RECIPE_JSON[recipe]},"ruleset":"{_VERSION}",'
        f'"keep":[{",".join([_Q[i] for i in keep]) if keep else ""}]}}'
    )
