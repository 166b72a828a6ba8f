"""The dataset check names the usual wrong files plainly: CSV, a BOM, empty, other key names."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.recipes import check_bytes, check_file

GOOD = b'{"prompt": "2+2?", "completion": "4"}\n'


def test_a_utf8_bom_is_skipped_with_a_hint() -> None:
    report = check_bytes(b"\xef\xbb\xbf" + GOOD, "sft")
    assert report.ok and report.examples == 1
    assert [w.code for w in report.warnings] == ["utf8_bom"]
    assert "without BOM" in report.warnings[0].message


def test_a_bom_file_on_disk_is_checked_the_same(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD * 3)
    report = check_file(path, "sft")
    assert report.ok and report.examples == 3 and report.warnings[0].code == "utf8_bom"


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_an_empty_file_says_what_a_line_looks_like(data: bytes) -> None:
    report = check_bytes(data, "sft")
    assert not report.ok and report.errors[0].code == "empty_file"
    assert '{"prompt": "...", "completion": "..."}' in report.errors[0].message


@pytest.mark.parametrize(
    "data", [b"prompt,response\nhi,there\n", b"prompt\tcompletion\na\tb\n", b"a;b\n"]
)
def test_csv_is_recognised_with_the_conversion(data: bytes, tmp_path: Path) -> None:
    report = check_bytes(data, "sft")
    assert not report.ok and [e.code for e in report.errors] == ["csv"]
    assert "to_json(out, orient='records', lines=True)" in report.errors[0].message
    path = tmp_path / "train.csv"
    path.write_bytes(data)
    assert check_file(path, "sft").errors[0].code == "csv"


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        (b'{"prompt": "a", "response": "b"}', "rename `response` to `completion`"),
        (b'{"prompt": "a", "output": "b"}', "rename `output` to `completion`"),
        (
            b'{"instruction": "a", "output": "b"}',
            "rename `output` to `completion` and `instruction` to `prompt`",
        ),
    ],
)
def test_other_tools_key_names_get_the_rename(line: bytes, hint: str) -> None:
    report = check_bytes(line + b"\n", "sft")
    assert not report.ok and hint in report.errors[0].message


def test_a_json_line_is_not_taken_for_csv() -> None:
    assert check_bytes(b'{"text": "a, b; c"}\n', "sft").ok
