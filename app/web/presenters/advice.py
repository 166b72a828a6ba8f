"""The "Advice so far" panel: the recommendation as answers stand, and the last change's effect."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.decision.bank import BANK, profile_from_answers
from app.decision.engine import recommend
from app.decision.recommendation import Recommendation
from app.decision.rules import RULES
from app.decision.wording import WORDING

# Score moves smaller than this (display scores, 0..1) are not worth a sentence.
NOTICEABLE = 0.01


def _label(approach: str) -> str:
    """An approach in words."""
    return WORDING.approaches[approach].label  # type: ignore[index]


def advice_context(answers: Mapping[str, Any], changed: tuple[str, ...] = ()) -> dict[str, Any]:
    """The panel: primary, plan and confidence now; what the `changed` answers did to them."""
    profile = profile_from_answers(answers)
    now = recommend(profile)
    effect = None
    changed = tuple(q for q in changed if q in answers)
    if changed:
        before = recommend(
            profile_from_answers({k: v for k, v in answers.items() if k not in changed})
        )
        effect = _effect(before, now, changed, profile.model_dump())
    return {
        "primary": _label(now.primary),
        "plan": [_label(a) for a in now.plan],
        "confidence": round(now.confidence * 100),
        "effect": effect,
        "answered": len(answers),
    }


def _effect(
    before: Recommendation, now: Recommendation, changed: tuple[str, ...], values: dict[str, Any]
) -> str:
    """One sentence: what the changed answers did to the advice, with the reason they gave."""
    fields = {BANK.get(q).field for q in changed}
    if now.primary != before.primary:
        why = _reason(now, now.primary, fields)
        head = f"This made {_label(now.primary)} the first step (it was {_label(before.primary)})"
        return f"{head}: {why}" if why else f"{head}."
    moves = sorted(
        ((now.scores[a] - before.scores[a], a) for a in now.scores),
        key=lambda m: -abs(m[0]),
    )
    moves = [m for m in moves if abs(m[0]) >= NOTICEABLE]
    if not moves:
        return "This did not change the advice."
    # The largest move with a reason: the engine's (the plan, the rungs held back), else the
    # rule that moved it.
    explained = [
        (d, a, why)
        for d, a in moves
        if (why := _reason(now, a, fields) or _rule_reason(values, a, fields, d > 0))
    ]
    delta, approach, why = explained[0] if explained else (*moves[0], None)
    verb = "raised" if delta > 0 else "lowered"
    head = f"This {verb} {_label(approach)}"
    return f"{head}: {why}" if why else f"{head}."


def _rule_reason(
    values: dict[str, Any], approach: str, fields: set[str], raised: bool
) -> str | None:
    """The reason of a rule on `approach` citing one of `fields` that holds for these values
    and moves the score the same way."""
    for rule in RULES.rule:
        cited = rule.field or rule.when[0].field
        if rule.approach != approach or cited not in fields or (rule.weight > 0) != raised:
            continue
        if all(c.test(values.get(c.field)) for c in rule.when):
            value = values.get(cited)
            shown = (
                f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value
            )
            text = rule.reason.replace("{value}", str(shown))
            return text[:1].lower() + text[1:]
    return None


def _reason(rec: Recommendation, approach: str, fields: set[str]) -> str | None:
    """The reason about `approach` that one of these fields gave, in lower case."""
    for r in rec.reasons:
        if r.approach == approach and r.field in fields:
            return r.text[:1].lower() + r.text[1:]
    return None
