"""Property tests of the escalation ladder (issue 11): what the rules may and may not do."""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.decision.engine import decide, profile_values, recommend
from app.decision.fields import BOOL, ENUM, FIELDS, INT, SET
from app.decision.flipgen import int_thresholds
from app.decision.profile import APPROACHES, Profile
from app.decision.rules import RULES, TRAINING

from .strategies import profiles

FAST = settings(max_examples=150, deadline=None)
ALL_APPROACHES = range(len(APPROACHES))


def _with(profile: Profile, **changes: Any) -> Profile:
    """The profile with some answers changed (None clears one), validated again."""
    data = {**profile.model_dump(exclude_none=True), **changes}
    return Profile.model_validate({k: v for k, v in data.items() if v is not None})


def _raw(profile: Profile) -> list[int]:
    """Raw scores (thousandths), before squashing."""
    return decide(profile_values(profile)).raw


def _answers(field: str) -> list[Any]:
    """One answer of every class the rules tell apart, for a field."""
    info = FIELDS[field]
    if info.kind == INT:
        return [0, *int_thresholds(RULES, field)]
    if info.kind == SET:
        allowed = info.allowed or ()
        sizes = range(len(allowed) + 1)
        return [list(c) for n in sizes for c in itertools.combinations(allowed, n)]
    return list(info.allowed or ())


def _no_demand(profile: Profile) -> bool:
    """Neither cost, latency nor hosting demands a smaller model."""
    return not (
        (profile.monthly_requests or 0) >= 1_000_000
        or (profile.latency_budget_ms is not None and profile.latency_budget_ms < 1000)
        or profile.deployment in ("self_hosted", "on_device")
        or profile.data_residency is True
    )


@FAST
@given(profiles())
def test_prompt_meets_bar_without_demand_trains_nothing(profile: Profile) -> None:
    """Best prompt meets the bar, no cost/latency/hosting demand: no new training rung."""
    profile = _with(profile, best_prompt_result="meets_bar")
    if not _no_demand(profile):
        profile = _with(profile, monthly_requests=None, latency_budget_ms=None)
        profile = _with(profile, deployment="hosted_api", data_residency=False)
    rec = recommend(profile)
    assert rec.primary not in TRAINING, (rec.primary, rec.scores)
    assert {a for a in rec.plan if a in TRAINING} <= set(rec.keep), rec.plan


@FAST
@given(profiles(), st.sampled_from(sorted(FIELDS)))
def test_unknown_never_raises_a_score(profile: Profile, field: str) -> None:
    """Leaving an answer unknown never scores a rung above what every known answer gives."""
    unknown = _raw(_with(profile, **{field: None}))
    known = [_raw(_with(profile, **{field: v})) for v in _answers(field)]
    for a in ALL_APPROACHES:
        assert unknown[a] <= max(k[a] for k in known), (field, APPROACHES[a])


# Answers that show a rung is feasible (or not): they may close a rung, never add to it.
FEASIBILITY = {
    "finetuning_available": APPROACHES,
    "gpu": APPROACHES,
    "ml_expertise": APPROACHES,
    "teacher_access": APPROACHES,
    "eval_set": APPROACHES,
    "data_matches_target": APPROACHES,
    "task_breadth": APPROACHES,
    # Where the model must run gates training; for distillation it is a demand.
    "deployment": tuple(a for a in APPROACHES if a != "distillation"),
    "data_residency": tuple(a for a in APPROACHES if a != "distillation"),
    # Examples make fine-tuning possible, never needed.
    "labeled_examples": APPROACHES,
}


@FAST
@given(profiles(), st.sampled_from(sorted(FEASIBILITY)))
def test_feasibility_never_raises_a_score(profile: Profile, field: str) -> None:
    """A feasibility answer scores every rung at most as the unknown answer does."""
    unknown = _raw(_with(profile, **{field: None}))
    for value in _answers(field):
        known = _raw(_with(profile, **{field: value}))
        for a in FEASIBILITY[field]:
            i = APPROACHES.index(a)
            assert known[i] <= unknown[i], (field, value, a)


@FAST
@given(profiles())
def test_no_rung_whose_cheaper_rung_suffices(profile: Profile) -> None:
    """Rungs join the plan for a need of their own, never when a cheaper one already does."""
    rec = recommend(profile)
    new = [a for a in rec.plan if a not in rec.keep]
    if rec.primary == "long_context":
        assert "rag" not in new, "material that fits the window needs no index"
    if "preference_tuning" in new:
        assert {"preferences", "grader"} & set(profile.supervision or ())
    if "distillation" in new:
        assert profile.strong_model_meets_bar == "yes" and not _no_demand(profile)
    if "fine_tuning" in new:
        assert profile.best_prompt_result != "meets_bar" or (
            (profile.prompt_tokens or 0) >= 2000 and (profile.monthly_requests or 0) >= 1_000_000
        )
    if any(a in TRAINING for a in new):
        assert profile.prompting != "not_tried" or rec.primary == "prompting"


@FAST
@given(profiles())
def test_prompting_untried_keeps_training_out_of_first_place(profile: Profile) -> None:
    """Until prompting has been tried, the first step never trains a model."""
    rec = recommend(_with(profile, prompting="not_tried"))
    assert rec.primary not in TRAINING


@FAST
@given(profiles())
def test_rag_in_production_is_kept_not_recommended_as_new(profile: Profile) -> None:
    """Retrieval in production stays in the plan; it is never a new rung."""
    using = tuple(sorted({*(profile.already_using or ()), "rag"}, key=APPROACHES.index))
    rec = recommend(_with(profile, already_using=list(using)))
    assert "rag" in rec.plan
    assert "rag" in rec.keep or rec.primary == "rag"


_RAW_ID = re.compile(r"\b[a-z]+_[a-z_]+\b")
_UNFORMATTED = re.compile(r"\d{4,}")


@FAST
@given(profiles())
def test_reasons_are_one_per_cause_in_words(profile: Profile) -> None:
    """One reason per (approach, answer, direction); words, not ids; numbers formatted."""
    rec = recommend(profile)
    causes = [(r.approach, r.field, r.effect) for r in rec.reasons if r.effect != "!"]
    assert len(causes) == len(set(causes)), causes
    for r in rec.reasons:
        assert not _RAW_ID.search(r.text), r.text
        assert not _UNFORMATTED.search(r.text), r.text
        assert "Only 0" not in r.text and " 0 good examples" not in r.text
        assert "is available to you" not in r.text


_EFFECT = {r.reason: ("+" if r.weight > 0 else "-") for r in RULES.rule}


@FAST
@given(profiles())
def test_reasons_against_are_never_shown_as_for(profile: Profile) -> None:
    """Every rule's reason carries the direction of its weight; the primary's "for" reasons
    come before its "against" ones."""
    rec = recommend(profile)
    for r in rec.reasons:
        if r.text in _EFFECT:
            assert r.effect == _EFFECT[r.text], r.text
    effects = [r.effect for r in rec.reasons if r.approach == rec.primary]
    assert effects[0] == "+", "the first reason of the primary argues for it"


@FAST
@given(profiles())
def test_what_would_change_offers_only_levers_or_unknowns(profile: Profile) -> None:
    """Never the gap; a known answer only where the user can act, in the direction of acting."""
    whatif = RULES.whatif
    for change in recommend(profile).what_would_change:
        assert change.field not in whatif.never
        current = getattr(profile, change.field)
        if current is None:
            continue
        if change.field in whatif.act_to:
            assert change.to in whatif.act_to[change.field]
            continue
        assert change.field in whatif.act_up, change
        info = FIELDS[change.field]
        if info.kind == INT:
            assert change.to > current
        elif info.kind == SET:
            assert set(current) < set(change.to)
        elif info.kind in (ENUM, BOOL):
            allowed = info.allowed or ()
            assert allowed.index(change.to) > allowed.index(current)


def test_every_rule_cites_a_public_source() -> None:
    """Rules, prerequisites, companions, keeps and rungs cite [source.*] entries with URLs."""
    for rule in RULES.rule:
        assert rule.source and all(s in RULES.source for s in rule.source), rule.id
    for pre in RULES.prerequisite:
        assert pre.source, pre.id
    assert all(s.url.startswith("https://") for s in RULES.source.values())
    cited = {s for r in RULES.rule for s in r.source}
    assert cited <= set(RULES.source)
    assert [g.id for g in RULES.rung][:2] == ["measure", "prompting"]


def test_unknown_answers_lower_confidence() -> None:
    """The same decision with fewer answers is less confident."""
    full = Profile(
        gap="behavior",
        prompting="thorough",
        best_prompt_result="inconsistent",
        labeled_examples=2000,
        eval_set="automated",
        data_matches_target="yes",
        finetuning_available=True,
    )
    fewer = Profile(gap="behavior", prompting="thorough", best_prompt_result="inconsistent")
    assert recommend(full).primary == recommend(fewer).primary == "fine_tuning"
    assert recommend(fewer).confidence < recommend(full).confidence
    asks = {c.field for c in recommend(fewer).what_would_change}
    assert asks <= {f for f in FIELDS if getattr(fewer, f) is None} | set(RULES.whatif.act_up)
