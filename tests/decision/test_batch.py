"""The JSON batch path and the human-readable profile errors."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from app.decision.batch import parse_profile, recommend_batch_json, recommend_json
from app.decision.engine import recommend
from app.decision.errors import ProfileError, describe_validation_error
from app.decision.profile import PROFILE_FIELDS, Profile


def test_batch_outputs_one_line_per_profile_in_order() -> None:
    """Each non-blank line gives the recommendation's JSON, in input order."""
    profiles = [{}, {"gap": "knowledge", "corpus_tokens": 50000}, {"gap": "behavior"}]
    lines = [json.dumps(p) for p in profiles]
    out = list(recommend_batch_json([lines[0], "", lines[1], "  \n", lines[2]]))
    assert len(out) == 3
    for line, profile in zip(out, profiles, strict=True):
        assert line == recommend(Profile.model_validate(profile)).model_dump_json()
        assert "\n" not in line


def test_batch_accepts_bytes() -> None:
    """Lines read from a binary file work too."""
    assert list(recommend_batch_json([b'{"gap": "both"}\n'])) == [recommend_json('{"gap": "both"}')]


def test_batch_error_names_line_field_and_values() -> None:
    """An invalid line stops the batch with the contract's message."""
    lines = ["{}", "", '{"gap": "knowlege"}']
    gen = recommend_batch_json(lines)
    assert next(gen)  # the valid first line was already produced
    with pytest.raises(ProfileError) as err:
        next(gen)
    e = err.value
    assert e.line == 3 and e.field == "gap"
    assert e.allowed == ["knowledge", "behavior", "both", "unsure", "cost_or_latency"]
    assert e.message == (
        "line 3: field 'gap': 'knowlege' is not allowed; "
        "allowed values: knowledge, behavior, both, unsure, cost_or_latency"
    )


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ('{"labeled_examples": -3}', "labeled_examples", "must be a whole number >= 0"),
        ('{"labeled_examples": "many"}', "labeled_examples", "must be a whole number >= 0"),
        ('{"labeled_examples": 2.5}', "labeled_examples", "whole number"),
        ('{"needs_citations": "yes"}', "needs_citations", "must be true or false"),
        ('{"supervision": "preferences"}', "supervision", "must be a list of"),
        ('{"supervision": ["prefs"]}', "supervision", "'prefs' is not allowed"),
        ('{"already_using": ["magic"]}', "already_using", "allowed values: prompting"),
        ('{"colour": "blue"}', "colour", "unknown field 'colour'; known fields: gap,"),
    ],
)
def test_profile_errors(text: str, field: str, needle: str) -> None:
    """Each kind of invalid answer names the field and what it should be."""
    with pytest.raises(ProfileError) as err:
        parse_profile(text)
    assert err.value.field == field
    assert needle in err.value.message
    assert err.value.message.startswith(f"field '{field}': ")


def test_not_json_and_not_an_object() -> None:
    """Broken JSON and non-objects get their own messages."""
    with pytest.raises(ProfileError, match="not valid JSON"):
        parse_profile("{gap: knowledge}", line=7)
    with pytest.raises(ProfileError, match="must be a JSON object"):
        parse_profile("[1, 2]")


def test_describe_validation_error_for_the_web_layer() -> None:
    """[{field, message, allowed}] per problem, allowed values read from the Profile types."""
    with pytest.raises(ValidationError) as err:
        Profile.model_validate({"gap": "facts", "risk": "extreme", "corpus_tokens": -1, "x": 1})
    problems = {p["field"]: p for p in describe_validation_error(err.value)}
    assert problems["gap"]["allowed"] == [
        "knowledge",
        "behavior",
        "both",
        "unsure",
        "cost_or_latency",
    ]
    assert problems["risk"]["allowed"] == ["low", "medium", "high"]
    assert "'extreme' is not allowed" in problems["risk"]["message"]
    assert problems["corpus_tokens"]["allowed"] is None
    assert "whole number >= 0" in problems["corpus_tokens"]["message"]
    assert problems["x"]["allowed"] == list(PROFILE_FIELDS)


def test_multiple_problems_are_counted() -> None:
    """The message mentions that more problems follow."""
    with pytest.raises(ProfileError) as err:
        parse_profile('{"gap": 1, "risk": 2}')
    assert "(and 1 more problem(s))" in err.value.message
    assert len(err.value.problems) == 2
