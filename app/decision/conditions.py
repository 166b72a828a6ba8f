"""Conditions over profile fields, shared by the rules and the question bank's skip logic."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.decision.fields import BOOL, ENUM, FIELDS, INT, SET

_OPS = ("in_", "not_in", "lt", "gte", "not_lt", "not_gte", "eq", "contains", "lacks", "unknown")
# Which operators make sense for which kind of field.
_OPS_FOR_KIND = {
    ENUM: {"in_", "not_in", "eq", "unknown"},
    BOOL: {"in_", "not_in", "eq", "unknown"},
    INT: {"in_", "not_in", "lt", "gte", "not_lt", "not_gte", "eq", "unknown"},
    SET: {"contains", "lacks", "unknown"},
}


def _op_name(op: str) -> str:
    """The name of an operator as written in the data files."""
    return "in" if op == "in_" else op


class Condition(BaseModel):
    """One test on one field; `not_in`, `not_lt` and `not_gte` also hold when the field is
    unknown; `lt`, `gte` and `lacks` need a known answer."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    field: str
    in_: tuple[str | bool | int, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str | bool | int, ...] | None = None
    lt: int | None = None
    gte: int | None = None
    not_lt: int | None = None
    not_gte: int | None = None
    eq: str | bool | int | None = None
    contains: str | None = None
    lacks: str | None = None
    unknown: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> Condition:
        """Reject unknown fields, missing or double operators and values the field never takes."""
        info = FIELDS.get(self.field)
        if info is None:
            raise ValueError(
                f"unknown profile field {self.field!r}; known fields: {', '.join(FIELDS)}"
            )
        used = [op for op in _OPS if getattr(self, op) is not None]
        if len(used) != 1:
            names = ", ".join(_op_name(o) for o in _OPS)
            raise ValueError(f"field {self.field!r}: give exactly one of {names}")
        op = used[0]
        if op not in _OPS_FOR_KIND[info.kind]:
            raise ValueError(
                f"field {self.field!r} ({info.kind}) does not support '{_op_name(op)}'"
            )
        arg = getattr(self, op)
        values = arg if op in ("in_", "not_in") else () if op == "unknown" else (arg,)
        for value in values:
            if not info.check_value(value):
                allowed = ", ".join(map(str, info.allowed or ())) or info.type_name()
                raise ValueError(
                    f"field {self.field!r}: {value!r} is not allowed; allowed values: {allowed}"
                )
        return self

    @property
    def op(self) -> str:
        """The operator this condition uses."""
        return next(op for op in _OPS if getattr(self, op) is not None)

    def test(self, value: Any) -> bool:
        """Evaluate on one field value (None = unknown); the slow path, for the bank."""
        op = self.op
        if op == "unknown":
            return (value is None) is self.unknown
        if op == "not_in":
            return value not in (self.not_in or ())
        if op == "not_lt":
            return value is None or value >= (self.not_lt or 0)
        if op == "not_gte":
            return value is None or value < (self.not_gte or 0)
        if value is None:
            return False
        if op == "in_":
            return value in (self.in_ or ())
        if op == "eq":
            return bool(value == self.eq and type(value) is type(self.eq))
        if op == "lt":
            return bool(value < (self.lt or 0))
        if op == "gte":
            return bool(value >= (self.gte or 0))
        if op == "lacks":
            return self.lacks not in value
        return self.contains in value

    def source(self, var: str, consts: dict[str, Any]) -> str:
        """A Python expression over variable `var`; constants are put in `consts`."""
        op = self.op
        if op == "unknown":
            return f"{var} is None" if self.unknown else f"{var} is not None"
        if op in ("in_", "not_in"):
            name = f"_c{len(consts)}"
            consts[name] = frozenset(getattr(self, op))
            return f"{var} {'in' if op == 'in_' else 'not in'} {name}"
        if op == "eq":
            if isinstance(self.eq, bool):
                return f"{var} is {self.eq!r}"
            return f"{var} == {self.eq!r}"
        if op == "lt":
            return f"({var} is not None and {var} < {int(self.lt or 0)})"
        if op == "gte":
            return f"({var} is not None and {var} >= {int(self.gte or 0)})"
        if op == "not_lt":
            return f"({var} is None or {var} >= {int(self.not_lt or 0)})"
        if op == "not_gte":
            return f"({var} is None or {var} < {int(self.not_gte or 0)})"
        if op == "lacks":
            return f"({var} is not None and {self.lacks!r} not in {var})"
        return f"({var} is not None and {self.contains!r} in {var})"

    def thresholds(self) -> tuple[int, ...]:
        """Integer boundaries this condition splits on (for what-if candidates)."""
        if self.op == "lt":
            return (int(self.lt or 0),)
        if self.op == "gte":
            return (int(self.gte or 0),)
        if self.op in ("not_lt", "not_gte"):
            return (int(getattr(self, self.op) or 0),)
        if self.op == "eq" and isinstance(self.eq, int) and not isinstance(self.eq, bool):
            return (self.eq, self.eq + 1)
        if self.op in ("in_", "not_in"):
            vals = getattr(self, self.op)
            return tuple(
                t
                for v in vals
                if isinstance(v, int) and not isinstance(v, bool)
                for t in (v, v + 1)
            )
        return ()
