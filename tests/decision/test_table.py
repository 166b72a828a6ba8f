"""Table tests: example profiles and cases written from the public guidance."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from app.decision.engine import recommend
from app.decision.profile import Profile
from app.decision.recommendation import Recommendation

DATA = Path(__file__).parent / "data"
LOW, HIGH = 0.5, 0.6


def _examples() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The shared example profiles, in the `expect` format of their README."""
    out = []
    for line in (DATA / "profiles.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            case = json.loads(line)
            out.append((case["title"], case["profile"], case["expect"]))
    return out


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Our own cases, converted to the same `expect` shape."""
    data = tomllib.loads((DATA / "cases.toml").read_text(encoding="utf-8"))
    out = []
    for case in data["case"]:
        expect = {k: v for k, v in case.items() if k not in ("title", "profile")}
        out.append((case["title"], case["profile"], expect))
    return out


def problems(rec: Recommendation, expect: dict[str, Any]) -> list[str]:
    """Every way the recommendation misses the expectation (empty when it passes)."""
    out = []
    if "primary" in expect and rec.primary not in expect["primary"]:
        out.append(f"primary {rec.primary} not in {expect['primary']}")
    for a in expect.get("plan_includes", []):
        if a not in rec.plan:
            out.append(f"plan {rec.plan} lacks {a}")
    for a in expect.get("plan_excludes", []):
        if a in rec.plan:
            out.append(f"plan {rec.plan} has {a}")
    for p in expect.get("prerequisites_include", []):
        if p not in rec.prerequisites:
            out.append(f"prerequisites {rec.prerequisites} lack {p}")
    for p in expect.get("prerequisites_exclude", []):
        if p in rec.prerequisites:
            out.append(f"prerequisites {rec.prerequisites} have {p}")
    technique = expect.get("technique")
    if isinstance(technique, str):  # the shared examples say e.g. "lora or qlora"
        allowed = technique.split(" or ")
        got = [v for a, v in rec.technique.items() if a == "fine_tuning"]
        if not got or got[0] not in allowed:
            out.append(f"technique {rec.technique} not one of {allowed}")
    elif isinstance(technique, dict):
        for approach, allowed in technique.items():
            if rec.technique.get(approach) not in allowed:
                out.append(f"technique {rec.technique} for {approach} not in {allowed}")
    if expect.get("confidence") == "low" and rec.confidence >= LOW:
        out.append(f"confidence {rec.confidence} is not low")
    if expect.get("confidence") == "high" and rec.confidence < HIGH:
        out.append(f"confidence {rec.confidence} is not high")
    return out


ALL = _examples() + _cases()


def test_enough_cases() -> None:
    """The shared examples plus at least 40 cases of our own."""
    assert len(_examples()) >= 8
    assert len(_cases()) >= 40
    assert len({t for t, _, _ in ALL}) == len(ALL), "titles must be unique"


@pytest.mark.parametrize(("title", "profile", "expect"), ALL, ids=[t for t, _, _ in ALL])
def test_case(title: str, profile: dict[str, Any], expect: dict[str, Any]) -> None:
    """The recommendation meets the case's expectations."""
    rec = recommend(Profile.model_validate(profile))
    assert not problems(rec, expect), (title, rec.primary, rec.plan, rec.scores)
