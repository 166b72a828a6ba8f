"""The JSON batch path and the human-readable profile errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.decision.batch import (
    line_ranges,
    parse_profile,
    recommend_batch_json,
    recommend_file_json,
    recommend_json,
)
from app.decision.engine import recommend
from app.decision.errors import ProfileError, describe_validation_error
from app.decision.profile import PROFILE_FIELDS, Profile
from bench.engine_bench import make_lines


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


def _jsonl(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.text(alphabet="ab\r", max_size=9), max_size=12),
    chunk=st.integers(min_value=1, max_value=40),
)
def test_line_ranges_cover_the_file_and_cut_only_at_line_ends(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], chunk: int
) -> None:
    """The ranges tile the file, and each ends at a line end or the file's end."""
    path = _jsonl(tmp_path_factory.mktemp("ranges"), lines)
    data = path.read_bytes()
    ranges = line_ranges(path, chunk)
    starts, ends = [s for s, _ in ranges], [e for _, e in ranges]
    assert starts == [0, *ends][: len(starts)]
    assert (ends[-1] if ends else 0) == len(data)
    assert all(data[e - 1 : e] == b"\n" for _, e in ranges)
    assert sum(len(data[s:e].splitlines()) for s, e in ranges) == len(data.splitlines())


@pytest.mark.parametrize("jobs", [1, 2])
def test_file_batch_in_processes_matches_the_stream(tmp_path: Path, jobs: int) -> None:
    """Deciding a file's ranges in several processes gives the stream's output, in order."""
    lines = make_lines(300, seed=3)
    lines[5] = ""  # blank lines are skipped, as in the stream
    path = _jsonl(tmp_path, lines)
    expected = "".join(x + "\n" for x in recommend_batch_json(lines))
    got = list(recommend_file_json(path, jobs=jobs, chunk_bytes=4096))
    assert len(got) == len(line_ranges(path, 4096)) > 10
    assert "".join(got) == expected


def test_file_batch_error_names_the_line_across_ranges(tmp_path: Path) -> None:
    """An invalid line in a later range is named by its line in the file, after every line
    before it was yielded; the ranges after it are not."""
    lines = make_lines(200, seed=4)
    lines[150] = '{"gap": "knowlege"}'
    path = _jsonl(tmp_path, lines)
    got: list[str] = []
    with pytest.raises(ProfileError) as err:
        for block in recommend_file_json(path, jobs=2, chunk_bytes=2048):
            got.append(block)
    assert err.value.line == 151 and err.value.field == "gap"
    assert "".join(got) == "".join(x + "\n" for x in recommend_batch_json(lines[:150]))
