"""Counts as people type them ("about 3,000", "3k", "3 000") and the units a question accepts."""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

# Counts above this are typos, and every store keeps them exact (SQLite holds 64-bit integers:
# larger ones came back as floats that the profile then refused, breaking the assessment).
MAX_COUNT = 10**15
ACCEPTED = (
    "a whole number such as 3000, 3,000, 3 000 or 3k (k = thousand, M = million, B = billion),"
    " optionally after “about”"
)

# Words that only say the number is rough; the number itself is kept as typed.
_ROUGHLY = re.compile(r"(?:about|around|approx(?:imately|\.)?|roughly|circa|ca\.|~|≈)\s*", re.I)
# [0-9], not \d: "²" and other Unicode digits are not numbers people mean here.
_PLAIN = re.compile(r"[0-9]{1,16}")
# Thousands grouped by one separator used throughout: 3,000 / 3 000 / 3_000 / 3'000.
_GROUPED = re.compile(
    r"[0-9]{1,3}(?P<sep>[,_ '\u00a0\u202f\u2009])[0-9]{3}(?:(?P=sep)[0-9]{3}){0,4}"
)
_SCALED = re.compile(
    r"(?P<number>[0-9]{1,9}(?:\.[0-9]{1,6})?)\s*(?P<scale>k|thousand|m|mn|million|b|bn|billion)",
    re.I,
)
_SCALE = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
}


class CountError(ValueError):
    """Text that is not a count this parser accepts; the message says what is."""


def parse_count(text: str) -> int:
    """A whole number from 0 to MAX_COUNT, as typed by a person; CountError otherwise."""
    body = text.strip()
    if len(body) > 40:
        raise CountError(f"{text[:40]!r}… is too long: give {ACCEPTED}")
    rough = _ROUGHLY.match(body)
    if rough:
        body = body[rough.end() :].strip()
    value: int | None = None
    if _PLAIN.fullmatch(body):
        value = int(body)
    elif _GROUPED.fullmatch(body):
        value = int(re.sub(r"[^0-9]", "", body))
    else:
        scaled = _SCALED.fullmatch(body)
        if scaled:
            exact = Decimal(scaled["number"]) * _SCALE[scaled["scale"].lower()]
            if exact != exact.to_integral_value():
                raise CountError(f"{text!r} is not a whole number: give {ACCEPTED}")
            value = int(exact)
    if value is None:
        raise CountError(f"{text!r} is not a number this form reads: give {ACCEPTED}")
    if value > MAX_COUNT:
        raise CountError(f"{text!r} is too large: give a whole number of at most {MAX_COUNT:,}")
    return value


class Unit(BaseModel):
    """A unit a count question accepts: `per` profile units (e.g. tokens) in one of it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z_]+$")
    label: str = Field(min_length=1)
    per: int = Field(ge=1)
    rule: str = ""  # the stated conversion, shown beside the field


def in_profile_units(count: int, unit: Unit) -> int:
    """A count typed in `unit`, in the profile's own unit; CountError past MAX_COUNT."""
    value = count * unit.per
    if value > MAX_COUNT:
        raise CountError(f"{count:,} {unit.label} is too large: at most {MAX_COUNT:,} in all")
    return value
