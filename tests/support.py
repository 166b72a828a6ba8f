"""Helpers shared by the test folders."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally when a component is missing; under CI=true that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required component missing under CI=true: {reason}")
    pytest.skip(reason, allow_module_level=True)


def require_module(name: str) -> ModuleType:
    """Import a module a test needs, with `require`'s rule when it is missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        require(False, f"{name} is not installed (pip install -e '.[test,train]'): {exc}")
        raise
