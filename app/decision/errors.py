"""Human-readable profile errors, shared by the CLI (exit 2) and the web layer (422)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from app.decision.fields import FIELDS, INT
from app.decision.profile import PROFILE_FIELDS

Problem = dict[str, Any]


def _join(values: Any) -> str:
    """Allowed values as a readable list."""
    return ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)


def _shown(value: Any) -> str:
    """A rejected input as the user typed it."""
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _problem(err: Any) -> Problem:
    """One pydantic error as {field, message, allowed}."""
    loc = err.get("loc", ())
    kind = err.get("type", "")
    field = str(loc[0]) if loc and isinstance(loc[0], str) else None
    info = FIELDS.get(field or "")
    got = err.get("input")
    if kind == "extra_forbidden":
        return {
            "field": field,
            "message": f"unknown field '{field}'; known fields: {', '.join(PROFILE_FIELDS)}",
            "allowed": list(PROFILE_FIELDS),
        }
    if kind == "json_invalid":
        return {"field": None, "message": f"not valid JSON: {err['msg']}", "allowed": None}
    if field is None or info is None:
        return {
            "field": None,
            "message": "a profile must be a JSON object of answers",
            "allowed": list(PROFILE_FIELDS),
        }
    allowed = list(info.allowed) if info.allowed is not None and info.kind != INT else None
    if kind == "literal_error" and allowed is not None:
        message = f"{_shown(got)} is not allowed; allowed values: {_join(allowed)}"
    elif info.kind == INT:
        message = f"{_shown(got)} is not valid: must be a whole number >= 0"
    elif kind in ("tuple_type", "list_type", "iterable_type"):
        message = f"must be a list of: {_join(allowed or ())}"
    elif kind.startswith("bool"):
        message = f"{_shown(got)} is not valid: must be true or false"
    else:
        message = f"{_shown(got)} is not valid: expected {info.type_name()} ({err.get('msg')})"
    return {"field": field, "message": message, "allowed": allowed}


def describe_validation_error(exc: ValidationError) -> list[Problem]:
    """[{field, message, allowed}] for every problem in a Profile validation error."""
    return describe_profile_errors(exc.errors())


def describe_profile_errors(errors: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """The same for pydantic error dicts whose `loc` starts at the profile (e.g. FastAPI's)."""
    return [_problem(err) for err in errors]


class ProfileError(ValueError):
    """An invalid profile; `message` names the line (in a batch), the field and allowed values."""

    def __init__(self, problems: list[Problem], line: int | None = None) -> None:
        self.problems = problems
        self.line = line
        first: Problem = problems[0] if problems else {"field": None, "message": "invalid profile"}
        self.field: str | None = first["field"]
        self.allowed: list[Any] | None = first.get("allowed")
        parts: list[str] = [] if line is None else [f"line {line}"]
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(str(first["message"]))
        if len(problems) > 1:
            parts[-1] += f" (and {len(problems) - 1} more problem(s))"
        self.message = ": ".join(parts)
        super().__init__(self.message)

    @classmethod
    def from_validation(cls, exc: ValidationError, line: int | None = None) -> ProfileError:
        """Wrap a pydantic error raised while validating a Profile."""
        return cls(describe_validation_error(exc), line)
