"""Training-test helpers: `require(module)` skips locally but fails under CI=true."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def require(module: str) -> ModuleType:
    """Import a module the test needs; a missing one skips locally and fails when CI=true."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        reason = f"{module} is not installed (pip install -e '.[train]'): {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"required component missing under CI=true: {reason}")
        pytest.skip(reason)


@pytest.fixture
def require_module():  # type: ignore[no-untyped-def]
    """The `require` helper as a fixture (conftest modules are not importable by name)."""
    return require
