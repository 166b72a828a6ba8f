"""Schemathesis against a real `advisor serve`: no 5xx, and every answer valid against the
schema's own declaration (status, content type, body, headers).

A bounded budget here (FUZZ_MAX_EXAMPLES per operation, at least 1,000 cases in all); `make
bench` runs a long one (bench/fuzz_bench.py holds the run for both).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from bench.fuzz_bench import fuzz
from tests.support import require

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))


@pytest.mark.timeout(900)
def test_the_api_answers_as_its_schema_says(migrated_sqlite_template: Path, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    require(schemathesis.exists(), "schemathesis is not installed (pip install -e '.[test]')")
    database = tmp_path / "advisor.db"
    shutil.copyfile(migrated_sqlite_template, database)
    run = fuzz(f"sqlite:///{database}", tmp_path, max_examples=MAX_EXAMPLES, timeout_s=840)
    assert run.ok, run.report
    assert run.cases >= 1000, run.report
