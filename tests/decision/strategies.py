"""Hypothesis strategies for valid profiles, built from the Profile model itself."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from app.decision.fields import BOOL, ENUM, FIELDS, INT, SET
from app.decision.profile import Profile

# Counts near the rule thresholds matter most; plus a spread of magnitudes.
_EDGES = [
    0,
    1,
    9,
    10,
    49,
    50,
    99,
    100,
    299,
    300,
    499,
    500,
    999,
    1000,
    1999,
    2000,
    9999,
    10000,
    99999,
    100000,
    199999,
    200000,
    999999,
    1000000,
    1999999,
    2000000,
    9999999,
    10000000,
]


def _value(info: Any) -> st.SearchStrategy[Any]:
    """Any valid value of one field."""
    if info.kind in (ENUM, BOOL):
        return st.sampled_from(info.allowed)
    if info.kind == SET:
        return st.lists(st.sampled_from(info.allowed), unique=True).map(tuple)
    assert info.kind == INT
    return st.one_of(st.sampled_from(_EDGES), st.integers(0, 10**9))


def profile_dicts() -> st.SearchStrategy[dict[str, Any]]:
    """Profile data: every field either missing or valid."""
    return st.fixed_dictionaries({}, optional={name: _value(info) for name, info in FIELDS.items()})


def profiles() -> st.SearchStrategy[Profile]:
    """Valid Profile models."""
    return profile_dicts().map(Profile.model_validate)
