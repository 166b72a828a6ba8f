"""The words for approaches and prerequisites: versioned data beside the question bank."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.decision.profile import APPROACHES, PREREQUISITES, Approach, Prerequisite
from app.decision.rules import DATA_DIR, RULESET_VERSION

WORDING_PATH = DATA_DIR / "wording.toml"


class WordingError(ValueError):
    """The wording file is malformed; the message says where and why."""


class Term(BaseModel):
    """What one approach or prerequisite is called, and what it means in one sentence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    summary: str = Field(min_length=1)


class Wording(BaseModel):
    """A label and a summary for every approach and prerequisite of the decision contract."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(alias="ruleset")
    # Literal keys: an id the contract does not have is refused by validation.
    approaches: dict[Approach, Term] = Field(alias="approach")
    prerequisites: dict[Prerequisite, Term] = Field(alias="prerequisite")

    @model_validator(mode="after")
    def _check(self) -> Wording:
        """Same version as the rules; no approach or prerequisite left without words."""
        if self.version != RULESET_VERSION:
            raise ValueError(f"wording version {self.version} differs from rules {RULESET_VERSION}")
        for kind, expected, given in (
            ("approach", APPROACHES, self.approaches),
            ("prerequisite", PREREQUISITES, self.prerequisites),
        ):
            missing = [key for key in expected if key not in given]
            if missing:
                raise ValueError(f"no wording for {kind} {', '.join(missing)}")
        return self


def load_wording(path: Path = WORDING_PATH) -> Wording:
    """Read and validate a wording file."""
    try:
        return Wording.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise WordingError(f"{path.name}: invalid wording: {exc}") from None


WORDING: Wording = load_wording()
