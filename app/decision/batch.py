"""JSON in, JSON out: the engine behind `advisor recommend --profile` and `--batch`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import ValidationError

from app.decision.engine import VALUES, decide, profile_values
from app.decision.errors import ProfileError
from app.decision.profile import Profile
from app.decision.render import to_json


def parse_profile(text: str | bytes, line: int | None = None) -> Profile:
    """Validate one profile given as JSON; raise ProfileError naming the field and values."""
    try:
        return Profile.model_validate_json(text)
    except ValidationError as exc:
        raise ProfileError.from_validation(exc, line) from None


def recommend_json(text: str | bytes) -> str:
    """One profile as JSON -> its recommendation as one JSON line (no trailing newline)."""
    return to_json(decide(profile_values(parse_profile(text))))


def recommend_batch_json(lines: Iterable[str | bytes]) -> Iterator[str]:
    """One recommendation JSON line per non-blank input line, in order; blank lines are skipped.

    Raises ProfileError (with .line, 1-based) at the first invalid line; the lines before it
    have already been yielded, so a caller that streams output keeps them.
    """
    # Locals, and the validator without its wrapper frame: this loop runs per line.
    validate = Profile.__pydantic_validator__.validate_json
    values, dec, render = VALUES, decide, to_json
    for number, line in enumerate(lines, 1):
        try:
            profile = validate(line)
        except ValidationError as exc:
            if not line or line.isspace():
                continue  # blank lines are rare: test for them only when a line fails
            raise ProfileError.from_validation(exc, number) from None
        yield render(dec(values(profile.__dict__)))
