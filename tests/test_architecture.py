"""The import rules in pyproject.toml's `[tool.importlinter]` hold, and each of them can fail.

`lint-imports` runs on the working tree, then on a small package tree written to a temporary
directory: an `app` that mirrors the intended layout (storage, models, services, web with its
html, api and presenters packages) and keeps every contract, and copies of it that each break
one contract with one deliberate import. Each copy must break exactly the contract it targets,
and the linter must name the offending import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
CONTRACTS: list[dict[str, Any]] = tomllib.loads(CONFIG.read_text())["tool"]["importlinter"][
    "contracts"
]
NAMES = {contract["id"]: contract["name"] for contract in CONTRACTS}


def imports(*lines: str) -> str:
    """A module that consists of these import statements."""
    return "".join(f"{line}\n" for line in lines)


# The intended layout, with the imports each part is meant to have. Every contract holds here.
LAYOUT: dict[str, str] = {
    "app/__init__.py": "",
    "app/settings.py": imports("import pydantic_settings"),
    "app/main.py": imports(
        "import fastapi",
        "from app.web.api import assessments",
        "from app.web.html import questionnaire",
    ),
    "app/cli.py": imports("import typer", "from app import main"),
    "app/decision/__init__.py": "",
    "app/decision/engine.py": imports("import pydantic"),
    "app/recipes/__init__.py": "",
    "app/recipes/catalog.py": imports("import tomllib", "import pydantic"),
    "app/models/__init__.py": imports("import sqlalchemy.orm"),
    "app/storage/__init__.py": imports("from app.storage.engine import after_commit, transaction"),
    "app/storage/engine.py": imports("import sqlalchemy", "from app.settings import Settings"),
    "app/storage/statement.py": imports("import sqlalchemy"),
    "app/storage/hot.py": imports(
        "from app.models import Answer",
        "from app.storage.statement import Statement",
    ),
    "app/services/__init__.py": "",
    "app/services/assessments.py": imports(
        "from app.decision import engine",
        "from app.models import Answer",
        "from app.storage import after_commit, hot",
    ),
    "app/web/__init__.py": "",
    "app/web/rendering.py": imports("import jinja2"),
    "app/web/html/__init__.py": "",
    "app/web/html/questionnaire.py": imports(
        "import fastapi",
        "from app.services import assessments",
        "from app.storage import transaction",
        "from app.web import rendering",
        "from app.web.presenters import questionnaire",
    ),
    "app/web/api/__init__.py": "",
    "app/web/api/assessments.py": imports(
        "import fastapi",
        "from app.services import assessments",
        "from app.storage import transaction",
        "from app.web.presenters import urls",
    ),
    "app/web/presenters/__init__.py": "",
    "app/web/presenters/questionnaire.py": imports(
        "from app.decision import engine",
        "from app.web.presenters import urls",
    ),
    "app/web/presenters/urls.py": imports("from urllib.parse import urlencode"),
}


@dataclass(frozen=True)
class Violation:
    """Files added to (or replaced in) the layout, the contract they break, and the import."""

    files: Mapping[str, str]
    contract: str
    reported: tuple[str, ...]  # "importer -> imported", as lint-imports lists it


VIOLATIONS: dict[str, Violation] = {
    "decision-imports-fastapi": Violation(
        {
            "app/decision/leak.py": imports("import fastapi"),
            "app/recipes/leak.py": imports("import jinja2"),
        },
        "pure-core-libraries",
        ("app.decision.leak -> fastapi", "app.recipes.leak -> jinja2"),
    ),
    "recipes-import-the-web-layer": Violation(
        {"app/recipes/leak.py": imports("from app.web.presenters.urls import urlencode")},
        "pure-core-layers",
        ("app.recipes.leak -> app.web.presenters.urls",),
    ),
    "a-service-imports-statement": Violation(
        {"app/services/leak.py": imports("from app.storage.statement import Statement")},
        "statement-in-storage",
        ("app.services.leak -> app.storage.statement",),
    ),
    "a-new-package-imports-statement": Violation(
        {
            "app/jobs/__init__.py": "",
            "app/jobs/runner.py": imports("from app.storage import statement"),
        },
        "statement-in-storage",
        ("app.jobs.runner -> app.storage.statement",),
    ),
    "storage-reexports-statement": Violation(
        {
            "app/storage/__init__.py": imports(
                "from app.storage.engine import after_commit, transaction",
                "from app.storage.statement import Statement",
            )
        },
        "statement-not-reexported",
        ("app.storage -> app.storage.statement",),
    ),
    "a-route-imports-hot": Violation(
        {"app/web/html/leak.py": imports("from app.storage import hot")},
        "web-not-hot-storage",
        ("app.web.html.leak -> app.storage.hot",),
    ),
    "a-router-imports-an-html-route": Violation(
        {"app/web/api/leak.py": imports("from app.web.html import questionnaire")},
        "web-html-api-independent",
        ("app.web.api.leak -> app.web.html.questionnaire",),
    ),
    "a-presenter-imports-a-router": Violation(
        {"app/web/presenters/leak.py": imports("from app.web.api import assessments")},
        "presenters-not-routes",
        ("app.web.presenters.leak -> app.web.api.assessments",),
    ),
}


@dataclass(frozen=True)
class Run:
    """What one `lint-imports` run returned and printed."""

    returncode: int
    output: str

    def status(self, contract_id: str) -> str | None:
        """KEPT or BROKEN, as the summary reports the contract; None if it is not there."""
        name = NAMES[contract_id]
        for line in self.output.splitlines():
            head, _, last = line.strip().rpartition(" ")
            if head == name and last in ("KEPT", "BROKEN"):
                return last
        return None

    def broken(self) -> set[str]:
        return {cid for cid in NAMES if self.status(cid) == "BROKEN"}


# One interpreter checks every tree in turn (a second in all, against ~0.4 s each for separate
# `lint-imports` processes): for each directory it changes into it and calls the function the
# `lint-imports` command runs, which puts that directory first on `sys.path`. Nothing imports
# `app`, so each directory's own `app` is the one analysed.
LINT_EACH = """
import contextlib, io, json, os, sys
from importlinter.cli import lint_imports
results = {}
for directory in sys.argv[1:]:
    os.chdir(directory)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = lint_imports(no_cache=True, no_logo=True)
    results[directory] = [status, out.getvalue()]
sys.__stdout__.write(json.dumps(results))
"""


def lint_imports(directories: list[Path]) -> dict[Path, Run]:
    """`lint-imports` with pyproject.toml's contracts on the `app` package in each directory."""
    for directory in directories:
        if directory != ROOT:
            (directory / "pyproject.toml").write_text(CONFIG.read_text())
    done = subprocess.run(
        [sys.executable, "-c", LINT_EACH, *map(str, directories)],
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    return {path: Run(*results[str(path)]) for path in directories}


def write_tree(directory: Path, files: Mapping[str, str]) -> Path:
    """Write `files` (path relative to `directory` -> source) and return `directory`."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every run this module checks: the working tree and each test tree."""
    trees = {"working tree": ROOT}
    trees["layout"] = write_tree(tmp_path_factory.mktemp("layout"), LAYOUT)
    for case, violation in VIOLATIONS.items():
        trees[case] = write_tree(tmp_path_factory.mktemp(case), {**LAYOUT, **violation.files})
    results = lint_imports(list(trees.values()))
    return {case: results[directory] for case, directory in trees.items()}


def test_the_working_tree_keeps_every_contract(runs: dict[str, Run]) -> None:
    run = runs["working tree"]
    assert run.returncode == 0, run.output
    assert run.broken() == set(), run.output


def test_the_intended_layout_keeps_every_contract(runs: dict[str, Run]) -> None:
    run = runs["layout"]
    assert run.returncode == 0, run.output
    assert {cid: run.status(cid) for cid in NAMES} == dict.fromkeys(NAMES, "KEPT"), run.output


@pytest.mark.parametrize("case", VIOLATIONS)
def test_a_violation_breaks_its_contract_and_no_other(runs: dict[str, Run], case: str) -> None:
    run, violation = runs[case], VIOLATIONS[case]
    assert run.returncode == 1, run.output
    assert run.broken() == {violation.contract}, run.output
    for chain in violation.reported:
        assert chain in run.output, run.output


def test_every_contract_is_shown_to_fail() -> None:
    assert {violation.contract for violation in VIOLATIONS.values()} == set(NAMES)
