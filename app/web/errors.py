"""Error bodies that name the field and what is allowed, for 422s everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def describe_errors(
    errors: Iterable[Mapping[str, Any]], *, model: type[BaseModel] | None = None
) -> list[dict[str, Any]]:
    """Turn pydantic error dicts into `{field, message, allowed}` items a user can act on."""
    described = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        kind = error.get("type", "")
        ctx = error.get("ctx") or {}
        allowed: list[Any] | None = None
        message = str(error.get("msg", "is not valid"))
        if kind == "literal_error":
            allowed = _QUOTED.findall(str(ctx.get("expected", "")))
            message = (
                f"{_shown(error.get('input'))} is not allowed; allowed values: {', '.join(allowed)}"
            )
        elif kind == "extra_forbidden":
            allowed = list(model.model_fields) if model is not None and len(loc) == 1 else None
            message = "is not a known field" + (
                f"; known fields: {', '.join(allowed)}" if allowed else ""
            )
        elif kind == "greater_than_equal":
            message = f"must be a whole number >= {ctx.get('ge')}"
        elif kind in ("int_type", "int_parsing", "int_from_float"):
            message = f"must be a whole number, not {_shown(error.get('input'))}"
        elif kind == "bool_type":
            message = f"must be true or false, not {_shown(error.get('input'))}"
        elif kind in ("tuple_type", "list_type"):
            message = f"must be a list, not {_shown(error.get('input'))}"
        elif kind == "json_invalid":
            message = f"the body is not valid JSON: {ctx.get('error', message)}"
        elif kind == "missing":
            message = "is required"
        described.append({"field": field, "message": message, "allowed": allowed, "type": kind})
    return described


def _shown(value: Any) -> str:
    """A short, quoted rendering of a rejected input."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
