"""Dataset check: formats per method, line-numbered problems, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.recipes import BadValue, DatasetError, check_bytes, check_file, check_lines


def _lines(*records: object) -> list[str]:
    return [r if isinstance(r, str) else json.dumps(r) for r in records]


def _chat(user: str = "hi", assistant: str = "hello") -> dict[str, object]:
    return {
        "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    }


def _codes(report) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(i.line, i.code) for i in report.errors]


def test_clean_sft_file_in_both_layouts() -> None:
    report = check_lines(_lines(_chat("a"), {"prompt": "q", "completion": "a"}), "sft")
    assert report.ok and report.examples == 2 and report.error_count == 0
    assert report.formats == {"messages": 1, "prompt_completion": 1}
    assert report.tokens_total > 0
    assert report.eval_split["eval_examples"] + report.eval_split["train_examples"] == 2


def test_sft_problems_are_reported_with_line_numbers() -> None:
    report = check_lines(
        _lines(
            _chat(),
            "{not json",
            "[1, 2]",
            {"messages": [{"role": "assistant", "content": "x"}]},
            {
                "messages": [
                    {"role": "user", "content": "  "},
                    {"role": "assistant", "content": "a"},
                ]
            },
            {"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}]},
            {
                "messages": [
                    {"role": "robot", "content": "q"},
                    {"role": "assistant", "content": "a"},
                ]
            },
            {"other": 1},
            _chat(),
        ),
        "sft",
    )
    assert not report.ok
    codes = _codes(report)
    assert (2, "malformed") in codes and (3, "not_object") in codes
    assert (4, "role_order") in codes and (5, "empty_turn") in codes
    assert (6, "role_order") in codes and (7, "unknown_role") in codes
    assert (8, "missing_field") in codes
    assert [(w.line, w.code) for w in report.warnings] == [(9, "duplicate")]
    assert report.duplicates == 1 and report.examples == 2


def test_overlong_examples_are_warnings() -> None:
    report = check_lines(_lines(_chat("word " * 400)), "sft", max_length=64)
    assert report.ok and report.overlong == 1 and report.warnings[0].code == "overlong"


def test_dpo_and_distill_layouts() -> None:
    dpo = check_lines(
        _lines(
            {"prompt": "p", "chosen": "good", "rejected": "bad"},
            {"prompt": "p", "chosen": "same", "rejected": "same"},
            {"prompt": "p", "chosen": "x"},
        ),
        "dpo",
    )
    assert _codes(dpo) == [(2, "chosen_equals_rejected"), (3, "missing_field")]
    distill = check_lines(
        _lines(
            {"prompt": "p"},
            {"prompt": [{"role": "user", "content": "q"}]},
            {"completion": "x"},
            {"prompt": "p", "completion": "c"},
        ),
        "distill",
    )
    assert _codes(distill) == [(3, "missing_field")]
    assert [(w.line, w.code) for w in distill.warnings] == [(4, "answers_ignored")]


def test_garbage_never_crashes(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage\n{}\n\n" + b"null\n")
    report = check_file(path, "sft")
    assert not report.ok and report.errors[0].code == "malformed"
    assert check_bytes(b"", "dpo").errors[0].code == "empty_file"


def test_limits_and_bad_method(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="limit"):
        check_bytes(b"x" * 100, "sft", max_bytes=10)
    with pytest.raises(DatasetError, match="no such file"):
        check_file(tmp_path / "missing.jsonl", "sft")
    with pytest.raises(BadValue, match="sft, dpo, distill"):
        check_lines([], "ppo")


def test_eval_split_suggestion() -> None:
    lines = _lines(*(_chat(f"q{i}") for i in range(1000)))
    split = check_lines(lines, "sft").eval_split
    assert split["eval_examples"] == 100 and split["train_examples"] == 900
