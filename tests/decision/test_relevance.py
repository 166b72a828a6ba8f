"""Skipped questions cannot change the advice: checked against the engine on random profiles."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings

from app.decision.engine import recommend
from app.decision.fields import FIELDS, INT, SET
from app.decision.flipgen import int_thresholds
from app.decision.profile import PROFILE_FIELDS, Profile
from app.decision.relevance import cannot_change_advice
from app.decision.rules import RULES

from .strategies import profiles


def _answers(field: str) -> list[Any]:
    """One answer of every class the rules tell apart (and a large count)."""
    info = FIELDS[field]
    if info.kind == INT:
        return [0, *int_thresholds(RULES, field), 10**12]
    if info.kind == SET:
        allowed = info.allowed or ()
        return [
            list(c) for n in range(len(allowed) + 1) for c in itertools.combinations(allowed, n)
        ]
    return list(info.allowed or ())


def _advice(profile: Profile) -> tuple[Any, ...]:
    rec = recommend(profile)
    return rec.primary, rec.plan, rec.prerequisites, rec.technique, rec.keep


@settings(max_examples=150, deadline=None)
@given(profiles())
def test_a_skipped_field_changes_nothing_the_result_leads_with(profile: Profile) -> None:
    skipped = cannot_change_advice(profile, PROFILE_FIELDS)
    now = _advice(profile)
    data = profile.model_dump(exclude_none=True)
    for field in skipped:
        assert field not in data, "only unanswered questions are skipped"
        for value in _answers(field):
            changed = Profile.model_validate({**data, field: value})
            assert _advice(changed) == now, (field, value)


def test_the_gap_is_never_skipped() -> None:
    assert "gap" not in cannot_change_advice(Profile(), PROFILE_FIELDS)


def test_a_knowledge_gap_skips_the_training_only_questions() -> None:
    skipped = cannot_change_advice(
        Profile(gap="knowledge", knowledge_kind="private", knowledge_change="weekly"),
        PROFILE_FIELDS,
    )
    assert {"gpu", "ml_expertise", "finetune_pilot_result", "data_matches_target"} <= skipped


def test_the_hosted_provider_is_asked_though_no_rule_reads_it() -> None:
    """It changes the recipe (its first export), not the advice; the bank says so."""
    assert not RULES.rules_by_field["hosted_provider"]
    for profile in (Profile(), Profile(gap="knowledge", deployment="hosted_api")):
        assert "hosted_provider" not in cannot_change_advice(profile, PROFILE_FIELDS)
