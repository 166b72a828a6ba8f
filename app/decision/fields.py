"""What each Profile field accepts, read once from the Profile model's type hints."""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from app.decision.profile import APPROACHES, PROFILE_FIELDS, Profile

ENUM, INT, BOOL, SET = "enum", "int", "bool", "set"

# Fields whose values have a natural order: a change of one step is smaller than two.
ORDINAL = frozenset(
    {
        "knowledge_change",
        "prompting",
        "eval_set",
        "ml_expertise",
        "gpu",
        "risk",
        "best_prompt_result",
    }
)


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """The kind of a Profile field and, for enums and lists, the values it allows."""

    name: str
    kind: str
    allowed: tuple[Any, ...] | None

    def check_value(self, value: Any) -> bool:
        """True when value is a single valid answer element for this field."""
        if self.kind in (ENUM, SET):
            return value in (self.allowed or ())
        if self.kind == BOOL:
            return isinstance(value, bool)
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    def type_name(self) -> str:
        """A human description of the expected type."""
        return {
            ENUM: "one of the allowed values",
            INT: "a whole number >= 0",
            BOOL: "true or false",
            SET: "a list of allowed values",
        }[self.kind]


def _strip_optional(tp: Any) -> Any:
    """Drop the `| None` of an optional annotation."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        tp = args[0] if len(args) == 1 else tp
    # StrictInt / StrictBool / Count are Annotated wrappers around int and bool.
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _literal_values(tp: Any) -> tuple[Any, ...] | None:
    """The values of a Literal type, or None when tp is not one."""
    return get_args(tp) if get_origin(tp) is Literal else None


def _info(name: str) -> FieldInfo:
    """Classify one Profile field by its annotation."""
    tp = _strip_optional(Profile.model_fields[name].annotation)
    values = _literal_values(tp)
    if values is not None:
        return FieldInfo(name, ENUM, values)
    if get_origin(tp) is tuple:
        inner = _literal_values(get_args(tp)[0])
        return FieldInfo(name, SET, inner)
    if tp is bool:
        return FieldInfo(name, BOOL, (True, False))
    if tp is int:
        return FieldInfo(name, INT, None)
    raise TypeError(f"Profile field {name!r} has an unsupported type {tp!r}")


FIELDS: dict[str, FieldInfo] = {name: _info(name) for name in PROFILE_FIELDS}
FIELD_INDEX: dict[str, int] = {name: i for i, name in enumerate(PROFILE_FIELDS)}
APPROACH_INDEX: dict[str, int] = {a: i for i, a in enumerate(APPROACHES)}
