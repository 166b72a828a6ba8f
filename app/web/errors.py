"""The one error body of the web layer, and the exceptions and messages that fill it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


class ErrorItem(BaseModel):
    """One problem with a request: where, what, which values would do, and its kind."""

    model_config = ConfigDict(frozen=True)

    field: str | None = Field(
        description="The field, parameter or resource concerned; null for the body as a whole."
    )
    message: str = Field(description="What is wrong, in words a user can act on.")
    allowed: list[Any] | None = Field(
        default=None, description="The accepted values; null when there is no fixed set."
    )
    type: str = Field(description="The kind of problem, e.g. literal_error, not_found, busy.")


class ErrorBody(BaseModel):
    """The body of every 404, 422 and 503 (and of the uploads' 413): a list of problems."""

    detail: list[ErrorItem]


def error_body(
    field: str | None, message: str, *, kind: str, allowed: list[Any] | None = None
) -> dict[str, Any]:
    """A one-problem error body, as JSON-ready data."""
    item = ErrorItem(field=field, message=message, allowed=allowed, type=kind)
    return ErrorBody(detail=[item]).model_dump(mode="json")


def errors_body(items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """An error body from problem dicts, checked against the model on the way out."""
    return ErrorBody(detail=[ErrorItem(**item) for item in items]).model_dump(mode="json")


def documented(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses` entry declaring the error body for one status code."""
    return {status: {"model": ErrorBody, "description": description}}


class FieldRefused(ValueError):
    """A form field a page route refuses: a 422 naming it (a page for a browser, the error
    body for an API client), raised before anything is stored."""

    def __init__(
        self,
        field: str,
        message: str,
        *,
        kind: str = "value_error",
        allowed: list[Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.kind = kind
        self.allowed = allowed


class PageNotFound(LookupError):
    """A URL naming a question, recipe, export or format that does not exist."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def describe_errors(
    errors: Iterable[Mapping[str, Any]], *, model: type[BaseModel] | None = None
) -> list[dict[str, Any]]:
    """Turn pydantic error dicts into `{field, message, allowed, type}` items a user can act on."""
    described = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        kind = error.get("type", "")
        # A JSON syntax error's location is a character position, not a field.
        field = "body" if kind == "json_invalid" else ".".join(loc) or "body"
        ctx = error.get("ctx") or {}
        allowed: list[Any] | None = None
        message = str(error.get("msg", "is not valid"))
        if kind == "literal_error":
            expected = str(ctx.get("expected", ""))
            # Strings come quoted ("'a', 'b' or 'c'"), numbers bare ("7, 30 or 90").
            allowed = _QUOTED.findall(expected) or [
                int(v) if v.isdigit() else v for v in re.split(r",\s*|\s+or\s+", expected) if v
            ]
            message = f"{_shown(error.get('input'))} is not allowed; allowed values: " + ", ".join(
                str(a) for a in allowed
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
