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
    """The engine's answer as plain indexes, rendered to a model or JSON below."""

    primary: int
    plan: list[int]
    raw: list[float]
    prerequisites: list[tuple[str, int]]  # (prerequisite id, index of the rule that added it)
    confidence: float
    reasons: list[tuple[str, int]]  # ("rule" | "pre" | "fallback" | "companion", index)
    changes: list[ChangeTuple]
    technique: dict[int, str]
    recipe: str | None
    values: tuple[Any, ...]


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


def _specs() -> dict[tuple[str, int], _Spec]:
    """Every reason the ruleset can give, keyed like Decision.reasons."""
    out: dict[tuple[str, int], _Spec] = {}
    for k, r in enumerate(RULES.rule):
        effect = "+" if r.weight > 0 else "-"
        out["rule", k] = _Spec(r.approach, effect, r.cited, r.reason, "{value}" in r.reason)
    for k, pre in enumerate(RULES.prerequisite):
        out["pre", k] = _Spec(None, "!", pre.cited, pre.reason, "{value}" in pre.reason)
    for ai, a in enumerate(APPROACHES):
        fb = RULES.fallback_reason[a]
        out["fallback", ai] = _Spec(a, "+", fb.field, fb.text, False)
    for j, c in enumerate(RULES.plan.companion):
        out["companion", j] = _Spec(c.add, "+", c.field, c.reason, False)
    return out


_SPECS = _specs()


def _reason_json(spec: _Spec, text: str) -> str:
    """One reason as a JSON object, in Reason's field order."""
    approach = "null" if spec.approach is None else f'"{spec.approach}"'
    return (
        f'{{"approach":{approach},"effect":"{spec.effect}","field":"{spec.field}",'
        f'"text":{json.dumps(text, ensure_ascii=False)}}}'
    )


# Reasons without {value} never change: build their model and JSON once.
_FIXED_MODEL = {
    key: Reason(approach=s.approach, effect=s.effect, field=s.field, text=s.text)  # type: ignore[arg-type]
    for key, s in _SPECS.items()
    if not s.templated
}
_FIXED_JSON = {key: _reason_json(s, s.text) for key, s in _SPECS.items() if not s.templated}


def _text(spec: _Spec, values: tuple[Any, ...]) -> str:
    """Fill {value} with the user's answer for the cited field."""
    return spec.text.replace("{value}", human(values[FIELD_INDEX[spec.field]]))


def _to_value(value: Any) -> Any:
    """A what-if value as the profile would hold it in JSON (lists, not tuples)."""
    return list(value) if isinstance(value, tuple) else value


def _recommendation(data: dict[str, Any]) -> Recommendation:
    """Build a Recommendation without re-validating the engine's own output (hot path)."""
    rec = Recommendation.__new__(Recommendation)
    object.__setattr__(rec, "__dict__", data)
    object.__setattr__(rec, "__pydantic_fields_set__", set(data))
    object.__setattr__(rec, "__pydantic_extra__", None)
    object.__setattr__(rec, "__pydantic_private__", None)
    return rec


def to_model(d: Decision) -> Recommendation:
    """The Recommendation model for a decision."""
    reasons = []
    for key in d.reasons:
        fixed = _FIXED_MODEL.get(key)
        if fixed is None:
            s = _SPECS[key]
            fixed = Reason.model_construct(
                approach=s.approach, effect=s.effect, field=s.field, text=_text(s, d.values)
            )
        reasons.append(fixed)
    return _recommendation(
        {
            "primary": APPROACHES[d.primary],
            "plan": [APPROACHES[i] for i in d.plan],
            "scores": {a: _SQUASH(r) for a, r in zip(APPROACHES, d.raw, strict=True)},
            "prerequisites": [pid for pid, _ in d.prerequisites],
            "confidence": d.confidence,
            "reasons": reasons,
            "what_would_change": [
                Change.model_construct(field=_FIELDS[f], to=_to_value(v), primary=APPROACHES[b])
                for _, f, v, b in d.changes
            ],
            "technique": {APPROACHES[i]: v for i, v in d.technique.items()},
            "recipe": d.recipe,
            "ruleset": COMPILED.version,
        }
    )


def _json_value(value: Any) -> str:
    """A profile value as JSON; enum ids are plain ASCII, so no escaping is needed."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ",".join(f'"{v}"' for v in value) + "]"
    return f'"{value}"'


_HEAD = tuple(f'"{a}":' for a in APPROACHES)
_TAIL = f',"ruleset":"{RULES.ruleset}"}}'


def to_json(d: Decision) -> str:
    """The decision as the same JSON line Recommendation.model_dump_json() would give."""
    reasons = []
    for key in d.reasons:
        fixed = _FIXED_JSON.get(key)
        if fixed is None:
            s = _SPECS[key]
            fixed = _reason_json(s, _text(s, d.values))
        reasons.append(fixed)
    raw = d.raw
    changes = ",".join(
        f'{{"field":"{_FIELDS[f]}","to":{_json_value(v)},"primary":"{APPROACHES[b]}"}}'
        for _, f, v, b in d.changes
    )
    technique = ",".join(f'"{APPROACHES[i]}":"{v}"' for i, v in d.technique.items())
    return "".join(
        (
            '{"primary":"',
            APPROACHES[d.primary],
            '","plan":[',
            ",".join(f'"{APPROACHES[i]}"' for i in d.plan),
            '],"scores":{',
            ",".join(h + repr(_SQUASH(r)) for h, r in zip(_HEAD, raw, strict=True)),
            '},"prerequisites":[',
            ",".join(f'"{pid}"' for pid, _ in d.prerequisites),
            '],"confidence":',
            repr(d.confidence),
            ',"reasons":[',
            ",".join(reasons),
            '],"what_would_change":[',
            changes,
            '],"technique":{',
            technique,
            '},"recipe":',
            "null" if d.recipe is None else f'"{d.recipe}"',
            _TAIL,
        )
    )
