"""A small, deterministic YAML emitter with comments (block style, YAML 1.1-safe scalars)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

# Plain (unquoted) scalars are allowed only for this safe alphabet, and never for words
# a YAML 1.1 loader (PyYAML) would turn into booleans, nulls or numbers.
_PLAIN = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./+-]*$")
_RESERVED = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "none", "~"}

Block = tuple[str | None, Mapping[str, Any]]


def scalar(value: Any) -> str:
    """One value as a YAML scalar that PyYAML and other loaders read back unchanged."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text:
            # YAML 1.1 needs a dot in the mantissa and a signed exponent to read a float.
            mantissa, exp = text.split("e")
            mantissa = mantissa if "." in mantissa else mantissa + ".0"
            text = f"{mantissa}e{int(exp):+03d}"
        return text
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list | tuple) and item:
                out.append(f"{pad}{scalar(key)}:")
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{pad}{scalar(key)}: {_inline(item)}")
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            if isinstance(item, Mapping) and item:
                nested = _lines(item, indent + 2)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
    else:
        out.append(f"{pad}{scalar(value)}")
    return out


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return scalar(value)


def emit(
    blocks: Sequence[Block],
    *,
    header: Sequence[str] = (),
    comments: Mapping[str, str] | None = None,
) -> str:
    """YAML text of (title, mapping) blocks; comments[key] goes above that top-level key."""
    comments = comments or {}
    out = [f"# {line}".rstrip() for line in header]
    for title, mapping in blocks:
        if not mapping:
            continue
        if out:
            out.append("")
        if title:
            out.append(f"### {title}")
        for key, value in mapping.items():
            if key in comments:
                out.append(f"# {comments[key]}")
            out.extend(_lines({key: value}, 0))
    return "\n".join(out) + "\n"
