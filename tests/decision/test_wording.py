"""The wording file: a label and a summary for every approach and prerequisite, nothing else."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.decision.profile import APPROACHES, PREREQUISITES
from app.decision.rules import RULESET_VERSION
from app.decision.wording import WORDING, WORDING_PATH, WordingError, load_wording


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    """A wording file holding `data`, written as TOML."""
    lines = [f'ruleset = "{data["ruleset"]}"']
    for kind in ("approach", "prerequisite"):
        for key, term in data.get(kind, {}).items():
            lines.append(f"[{kind}.{key}]")
            lines += [f'{name} = "{text}"' for name, text in term.items()]
    path = tmp_path / "wording.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _shipped() -> dict[str, Any]:
    """The shipped file's data, to break one piece at a time."""
    return tomllib.loads(WORDING_PATH.read_text(encoding="utf-8"))


def test_every_approach_and_prerequisite_has_a_label_and_a_summary() -> None:
    assert WORDING.version == RULESET_VERSION
    assert set(WORDING.approaches) == set(APPROACHES)
    assert set(WORDING.prerequisites) == set(PREREQUISITES)
    for term in (*WORDING.approaches.values(), *WORDING.prerequisites.values()):
        assert term.label.strip() and term.summary.strip()
    labels = [term.label for term in WORDING.approaches.values()]
    assert len(set(labels)) == len(labels), "two approaches share a label"


def test_the_shipped_file_round_trips(tmp_path: Path) -> None:
    assert load_wording(_write(tmp_path, _shipped())) == WORDING


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d["approach"].pop("rag"), "no wording for approach rag"),
        (lambda d: d["prerequisite"].pop("safety_review"), "safety_review"),
        (lambda d: d["approach"].update(vibes={"label": "V", "summary": "S"}), "vibes"),
        (lambda d: d["prerequisite"]["build_evals"].pop("summary"), "summary"),
        (lambda d: d["approach"]["rag"].update(colour="blue"), "colour"),
        (lambda d: d["approach"]["rag"].update(label=""), "label"),
        (lambda d: d.update(ruleset="1999.1.1"), "differs from rules"),
    ],
    ids=[
        "missing-approach",
        "missing-prerequisite",
        "unknown-approach",
        "missing-summary",
        "unknown-key",
        "empty-label",
        "other-version",
    ],
)
def test_a_broken_file_is_refused_naming_the_problem(
    tmp_path: Path, change: Any, needle: str
) -> None:
    data = _shipped()
    change(data)
    with pytest.raises(WordingError) as refused:
        load_wording(_write(tmp_path, data))
    assert needle in str(refused.value)
    assert "wording.toml" in str(refused.value)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wording.toml"
    path.write_text("ruleset = \n")
    with pytest.raises(WordingError):
        load_wording(path)
