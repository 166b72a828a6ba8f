"""Property tests: any valid profile gives a valid, self-consistent recommendation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.decision.engine import confidence, decide, profile_values, recommend
from app.decision.profile import APPROACHES, PREREQUISITES, PROFILE_FIELDS, Profile
from app.decision.recommendation import Recommendation
from app.decision.render import to_json
from app.decision.rules import RULES, RULESET_VERSION, SCALE, TRAINING
from app.decision.whatif import MAX_CHANGES

from .strategies import profiles

FAST = settings(max_examples=120, deadline=None)


def _with(profile: Profile, **changes: Any) -> Profile:
    """The profile with some answers changed, validated again."""
    return Profile.model_validate({**profile.model_dump(exclude_none=True), **changes})


@FAST
@given(profiles())
def test_recommendation_is_valid_and_consistent(profile: Profile) -> None:
    """Shape, ranges, ordering and cross-references of every part of the answer."""
    rec = recommend(profile)
    Recommendation.model_validate(rec.model_dump())  # the fast construction is still valid
    assert rec.ruleset == RULESET_VERSION
    assert set(rec.scores) == set(APPROACHES)
    assert all(0.0 <= s <= 1.0 for s in rec.scores.values())
    assert rec.scores[rec.primary] == max(rec.scores.values())
    assert 0.0 <= rec.confidence <= 1.0
    assert rec.primary in rec.plan
    assert rec.plan == sorted(rec.plan, key=APPROACHES.index), "plan follows the canonical order"
    assert len(set(rec.plan)) == len(rec.plan)
    assert set(rec.prerequisites) <= set(PREREQUISITES)
    assert len(set(rec.prerequisites)) == len(rec.prerequisites)
    assert set(rec.keep) <= set(rec.plan) and rec.primary not in rec.keep
    assert set(rec.keep) <= set(profile.already_using or ())
    assert set(rec.technique) == {a for a in rec.plan if a in TRAINING and a not in rec.keep}
    assert rec.recipe is not None
    for reason in rec.reasons:
        assert reason.field in PROFILE_FIELDS
        assert reason.text and "{" not in reason.text
    explained = {r.approach for r in rec.reasons}
    assert set(rec.plan) <= explained, "every plan approach has a reason"


@FAST
@given(profiles())
def test_what_would_change_really_changes_primary(profile: Profile) -> None:
    """Applying any listed change gives the listed new primary."""
    rec = recommend(profile)
    assert len(rec.what_would_change) <= MAX_CHANGES
    assert len({c.field for c in rec.what_would_change}) == len(rec.what_would_change)
    for change in rec.what_would_change:
        assert change.primary != rec.primary
        changed = recommend(_with(profile, **{change.field: change.to}))
        assert changed.primary == change.primary, change


@FAST
@given(profiles())
def test_batch_json_matches_the_model(profile: Profile) -> None:
    """The hand-built JSON line equals pydantic's serialisation of the model."""
    assert to_json(decide(profile_values(profile))) == recommend(profile).model_dump_json()


@FAST
@given(
    profiles(),
    st.sampled_from(["static", "monthly", "weekly", "daily"]),
    st.sampled_from(["static", "monthly", "weekly", "daily"]),
)
def test_fresher_material_never_lowers_rag(profile: Profile, a: str, b: str) -> None:
    """More frequent knowledge changes never lower the retrieval score."""
    order = ["static", "monthly", "weekly", "daily"]
    low, high = sorted((a, b), key=order.index)
    assert (
        recommend(_with(profile, knowledge_change=high)).scores["rag"]
        >= recommend(_with(profile, knowledge_change=low)).scores["rag"]
    )


@FAST
@given(profiles(), st.integers(0, 10**6), st.integers(0, 10**6))
def test_more_examples_never_lower_fine_tuning(profile: Profile, a: int, b: int) -> None:
    """More labelled examples never lower the fine-tuning score."""
    low, high = sorted((a, b))
    assert (
        recommend(_with(profile, labeled_examples=high)).scores["fine_tuning"]
        >= recommend(_with(profile, labeled_examples=low)).scores["fine_tuning"]
    )


@FAST
@given(profiles())
def test_no_eval_set_means_build_evals(profile: Profile) -> None:
    """Without an eval set (or not knowing) the first prerequisite is building one."""
    for value in ("none", None):
        rec = recommend(_with(profile, eval_set=value))
        assert "build_evals" in rec.prerequisites


@FAST
@given(profiles())
def test_no_finetuning_never_raises_training(profile: Profile) -> None:
    """Saying fine-tuning is unavailable never raises a training approach's score."""
    off = recommend(_with(profile, finetuning_available=False)).scores
    on = recommend(_with(profile, finetuning_available=True)).scores
    assert all(off[a] <= on[a] for a in TRAINING)


@FAST
@given(profiles())
def test_citations_never_lower_rag(profile: Profile) -> None:
    """Needing citations never lowers the retrieval score."""
    assert (
        recommend(_with(profile, needs_citations=True)).scores["rag"]
        >= recommend(_with(profile, needs_citations=False)).scores["rag"]
    )


@FAST
@given(profiles())
def test_high_risk_weight_change_needs_safety_review(profile: Profile) -> None:
    """Any weight change in a high-risk setting comes with a safety review."""
    rec = recommend(_with(profile, risk="high"))
    if any(a in TRAINING for a in rec.plan):
        assert "safety_review" in rec.prerequisites


@FAST
@given(profiles())
def test_prompting_not_tried_makes_prompting_primary_for_behaviour(profile: Profile) -> None:
    """Exhaust prompting first: with prompting untried, a behaviour gap starts with prompting."""
    rec = recommend(_with(profile, prompting="not_tried", gap="behavior"))
    assert rec.primary == "prompting"


def test_empty_profile() -> None:
    """Nothing known: prompting, build evals, low confidence."""
    rec = recommend(Profile())
    assert rec.primary == "prompting"
    assert "build_evals" in rec.prerequisites
    assert rec.confidence < 0.5


@FAST
@given(profiles())
def test_confidence_follows_the_documented_formula(profile: Profile) -> None:
    """base + known x share answered + margin x min(1, lead / margin_full) - unsure gap, clamped."""
    conf = RULES.confidence
    values = profile_values(profile)
    decision = decide(values)
    ordered = sorted(decision.raw)
    lead = (ordered[5] - ordered[4]) / SCALE
    answered = sum(v is not None for v in values) / len(PROFILE_FIELDS)
    expected = conf.base + conf.known * answered + conf.margin * min(1.0, lead / conf.margin_full)
    if profile.gap in (None, "unsure"):
        expected -= conf.unsure_gap
    expected = min(1.0, max(conf.floor, expected))
    assert decision.confidence == pytest.approx(expected, abs=0.0051)
    assert decision.confidence == confidence(values, ordered[5] - ordered[4])


def _brute_force_changes(profile: Profile) -> list[tuple[float, str, Any, str]]:
    """Every field's cheapest primary-changing candidate, by full re-decision (slow, exact)."""
    from app.decision.flipgen import int_thresholds, log_cost
    from app.decision.rules import RULES

    base = recommend(profile).primary
    out: list[tuple[float, str, Any, str]] = []
    for name in PROFILE_FIELDS:
        if not RULES.rules_by_field[name]:
            continue
        for cost, value in _candidates(name, getattr(profile, name), int_thresholds, log_cost):
            new = recommend(_with(profile, **{name: value})).primary
            if new != base:
                out.append((round(cost, 9), name, value, new))
                break
    out.sort(key=lambda c: (c[0], PROFILE_FIELDS.index(c[1])))
    return out[:MAX_CHANGES]


def _candidates(name: str, cur: Any, thresholds: Any, log_cost: Any) -> list[tuple[float, Any]]:
    """The documented candidate answers for one field, cheapest first."""
    from app.decision.fields import ENUM, FIELDS, INT, ORDINAL, SET
    from app.decision.flipgen import may_move
    from app.decision.rules import RULES

    info = FIELDS[name]
    if name in RULES.whatif.never:
        return []
    if info.kind == INT:
        ts = thresholds(RULES, name)
        if cur is None:
            return [(1.0, v) for v in (0, *ts)]
        near = [t for t in ts if t > cur]  # a count only grows (nearest threshold first)
        return sorted(
            ((log_cost(v, cur), v) for v in near if may_move(RULES, name, cur, v)),
            key=lambda c: c[0],
        )
    allowed = info.allowed or ()
    if info.kind == SET:
        if cur is None:
            return [(1.0, []), *((1.0, [x]) for x in allowed)]
        flips = [[a for a in allowed if (a in cur) != (a == x)] for x in allowed]
        return [(1.0, v) for v in flips if may_move(RULES, name, cur, tuple(v))]
    ordinal = info.kind == ENUM and name in ORDINAL and cur is not None
    steps = [
        (float(abs(allowed.index(v) - allowed.index(cur))) if ordinal else 1.0, v)
        for v in allowed
        if v != cur and may_move(RULES, name, cur, v)
    ]
    return sorted(steps, key=lambda c: c[0])


@settings(max_examples=60, deadline=None)
@given(profiles())
def test_what_would_change_is_the_cheapest(profile: Profile) -> None:
    """The incremental search finds exactly what re-deciding every candidate would."""
    got = [(c.field, c.to, c.primary) for c in recommend(profile).what_would_change]
    expected = _brute_force_changes(profile)
    assert got == [(n, v, p) for _, n, v, p in expected]
