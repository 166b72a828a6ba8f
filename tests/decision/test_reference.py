"""The compiled engine agrees with the readable reference; generated code shows in tracebacks."""

from __future__ import annotations

import traceback

import pytest
from hypothesis import given, settings

from app.decision import reference
from app.decision.compiler import COMPILED
from app.decision.engine import profile_values, recommend
from app.decision.profile import APPROACHES, Profile
from app.decision.rules import RULES

from .strategies import profiles
from .test_table import ALL


def _agree(profile: Profile) -> None:
    """Scores, fired rules, primary, plan, keep, prerequisites, technique and recipe match."""
    ref = reference.decide(profile)
    raw, pros, cons, _ = COMPILED.score(profile_values(profile))
    assert dict(zip(APPROACHES, raw, strict=True)) == ref.raw
    compiled_fired = {RULES.rule[k].id for lists in (pros, cons) for ks in lists for k in ks}
    assert compiled_fired == {rule.id for rule in ref.fired}
    rec = recommend(profile)
    assert rec.primary == ref.primary
    assert rec.plan == ref.plan
    assert rec.keep == ref.keep
    assert rec.prerequisites == ref.prerequisites
    assert rec.technique == ref.technique
    assert rec.recipe == ref.recipe


@settings(max_examples=400, deadline=None)
@given(profiles())
def test_compiled_engine_agrees_with_the_reference(profile: Profile) -> None:
    _agree(profile)


@pytest.mark.parametrize("profile", [p for _, p, _ in ALL], ids=[t for t, _, _ in ALL])
def test_agreement_on_the_table_cases(profile: dict[str, object]) -> None:
    _agree(Profile.model_validate(profile))


def test_generated_code_is_visible_in_tracebacks() -> None:
    """A failure inside generated code shows the generated line, under a real file name."""
    with pytest.raises(ValueError) as failed:
        COMPILED.score((None,))  # too few values to unpack, inside the generated scorer
    text = "".join(traceback.format_exception(failed.value))
    assert "generated_score_" in text and ".py" in text
    assert "v_gap" in text, text  # the generated source line itself is printed
