"""Read an export against an SDK's request type: every key known, required keys there, values typed.

The SDKs' request types are TypedDicts (openai, fireworks-ai) whose wire names are aliases in
`Annotated[..., PropertyInfo(alias=...)]`, or pydantic models that allow extra keys (together),
so neither rejects an unknown key by itself; these helpers do.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pydantic
from typing_extensions import is_typeddict


def _alias(metadata: Iterable[Any]) -> str | None:
    return next((m.alias for m in metadata if getattr(m, "alias", None)), None)


def wire_fields(typed_dict: type) -> dict[str, tuple[str, Any]]:
    """Wire name -> (Python name, type) of a TypedDict's fields."""
    out: dict[str, tuple[str, Any]] = {}
    for name, hint in get_type_hints(typed_dict, include_extras=True).items():
        alias = None
        if get_origin(hint) is typing.Annotated:
            hint, *metadata = get_args(hint)
            alias = _alias(metadata)
        out[alias or name] = (name, hint)
    return out


def problems(value: Any, hint: Any, path: str = "body") -> list[str]:
    """Why `value` (JSON as sent) does not fit `hint`; empty when it does."""
    origin = get_origin(hint)
    if hint is Any or hint is object:
        return []
    if origin is typing.Annotated:
        return problems(value, get_args(hint)[0], path)
    if origin in (Union, types.UnionType):
        tries = [problems(value, option, path) for option in get_args(hint)]
        if any(not t for t in tries):
            return []
        return min(tries, key=len)
    if origin is Literal:
        return [] if value in get_args(hint) else [f"{path}: {value!r} not in {get_args(hint)}"]
    if hint is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if is_typeddict(hint):
        return _typeddict_problems(value, hint, path)
    if isinstance(hint, type) and issubclass(hint, pydantic.BaseModel):
        return model_problems(value, hint, path)
    if origin in (list, tuple, Iterable, typing.Sequence) or (
        origin is not None and getattr(origin, "__name__", "") in ("Iterable", "Sequence")
    ):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        (item,) = get_args(hint)[:1] or (Any,)
        return [p for i, v in enumerate(value) for p in problems(v, item, f"{path}[{i}]")]
    if origin in (dict, Mapping) or hint is dict:
        return [] if isinstance(value, dict) else [f"{path}: expected an object"]
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
    return []  # a type these exports never use (e.g. a file object): nothing to hold them to


def _typeddict_problems(value: Any, hint: type, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object"]
    fields = wire_fields(hint)
    out = [f"{path}.{k}: unknown to {hint.__name__}" for k in value if k not in fields]
    by_name = {name: wire for wire, (name, _) in fields.items()}
    required = getattr(hint, "__required_keys__", frozenset())
    out += [f"{path}.{by_name[k]}: required" for k in required if by_name[k] not in value]
    for key, item in value.items():
        if key in fields:
            out += problems(item, fields[key][1], f"{path}.{key}")
    return out


def model_problems(value: Any, model: type[pydantic.BaseModel], path: str = "body") -> list[str]:
    """Unknown keys (at any depth) and validation errors of a pydantic request model."""
    if not isinstance(value, dict):
        return [f"{path}: expected an object"]
    try:
        parsed = model.model_validate(value)
    except pydantic.ValidationError as exc:
        return [f"{path}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return _extras(parsed, path)


def _extras(obj: Any, path: str) -> list[str]:
    if isinstance(obj, pydantic.BaseModel):
        out = [f"{path}.{k}: unknown to {type(obj).__name__}" for k in obj.model_extra or {}]
        for name in type(obj).model_fields:
            out += _extras(getattr(obj, name), f"{path}.{name}")
        return out
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _extras(v, f"{path}[{i}]")]
    return []


def to_python_names(value: Any, hint: Any) -> Any:
    """A wire body (aliases) as the SDK method's keyword arguments (Python names)."""
    if get_origin(hint) is typing.Annotated:
        hint = get_args(hint)[0]
    if get_origin(hint) in (Union, types.UnionType):
        options = [o for o in get_args(hint) if is_typeddict(o)]
        hint = options[0] if options else hint
    if is_typeddict(hint) and isinstance(value, dict):
        fields = wire_fields(hint)
        return {
            fields[k][0]: to_python_names(v, fields[k][1]) if k in fields else v
            for k, v in value.items()
        }
    return value
