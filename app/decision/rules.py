"""The ruleset as data: load rules.toml, validate it against the Profile, compile it once."""

from __future__ import annotations

import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.decision.conditions import Condition
from app.decision.fields import FIELDS
from app.decision.profile import APPROACHES, Approach, Prerequisite

DATA_DIR = Path(__file__).parent / "data"
RULES_PATH = DATA_DIR / "rules.toml"
TrainingApproach = Literal["fine_tuning", "preference_tuning", "distillation"]
TRAINING: tuple[TrainingApproach, ...] = ("fine_tuning", "preference_tuning", "distillation")
SCALE = 1000  # weights are compiled to integer thousandths
_PLACEHOLDER = re.compile(r"{([^}]*)}")


class RulesError(ValueError):
    """The ruleset file is malformed; the message says where and why."""


def _check_field(name: str) -> str:
    """Reject a field name the Profile does not have."""
    if name not in FIELDS:
        raise ValueError(f"unknown profile field {name!r}; known fields: {', '.join(FIELDS)}")
    return name


def _check_text(text: str) -> None:
    """Only {value} may be substituted into reason text."""
    for name in _PLACEHOLDER.findall(text):
        if name != "value":
            raise ValueError(f"reason text may only use {{value}}, not {{{name}}}")


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


SourceIds = tuple[str, ...]


def _source_ids(value: Any) -> Any:
    """A single source id may be written as a plain string."""
    return (value,) if isinstance(value, str) else value


class Source(_Data):
    """A public guide, paper or case study a rule rests on."""

    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://")


class Rung(_Data):
    """One rung of the escalation ladder, as "How it decides" shows it."""

    id: str
    title: str
    approaches: tuple[Approach, ...] = ()
    does: str
    climb_when: str
    source: SourceIds = Field(min_length=1)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _source_ids(value)


class Rule(_Data):
    """An additive scoring rule: when every condition holds, `weight` goes to `approach`."""

    id: str
    approach: Approach
    weight: float
    when: tuple[Condition, ...] = Field(min_length=1)
    reason: str
    field: str | None = None
    source: SourceIds = Field(min_length=1)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _source_ids(value)

    @model_validator(mode="after")
    def _check(self) -> Rule:
        """The cited field defaults to the first condition's and must be one of them."""
        if self.field is None:
            object.__setattr__(self, "field", self.when[0].field)
        elif self.field not in self.fields:
            raise ValueError(f"cited field {self.field!r} is not used in the rule's conditions")
        _check_text(self.reason)
        if abs(self.weight * SCALE - round(self.weight * SCALE)) > 1e-6:
            raise ValueError(f"weight {self.weight} has more than 3 decimals")
        return self

    @property
    def milli(self) -> int:
        """The weight in thousandths: integer sums are exact in any order."""
        return round(self.weight * SCALE)

    @property
    def fields(self) -> tuple[str, ...]:
        """The profile fields this rule reads, without repeats."""
        return tuple(dict.fromkeys(c.field for c in self.when))

    @property
    def cited(self) -> str:
        """The field the reason cites."""
        return self.field or self.when[0].field


class PrerequisiteRule(_Data):
    """A prerequisite that applies when its conditions hold (and the plan has `plan_any`)."""

    id: Prerequisite
    when: tuple[Condition, ...] = Field(min_length=1)
    plan_any: tuple[Approach, ...] = ()
    reason: str
    field: str | None = None
    source: SourceIds = Field(min_length=1)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _source_ids(value)

    @property
    def cited(self) -> str:
        """The field the reason cites."""
        return _check_field(self.field) if self.field else self.when[0].field


class TechniqueRule(_Data):
    """The first matching technique rule picks the variant of a training approach."""

    approach: TrainingApproach
    variant: str
    when: tuple[Condition, ...] = Field(min_length=1)


class Companion(_Data):
    """When `with_` is in the plan and `add` scores at least `min_raw`, `add` joins it."""

    with_: Approach = Field(alias="with")
    add: Approach
    min_raw: float
    if_fired: tuple[str, ...] = ()  # and one of these rules (of `add`) fired, when given
    field: str
    reason: str
    source: SourceIds = Field(min_length=1)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _source_ids(value)

    @model_validator(mode="after")
    def _check(self) -> Companion:
        """The cited field must exist."""
        _check_field(self.field)
        return self


class Keep(_Data):
    """An approach already in production stays in the plan (as "keep") when `when` holds."""

    approach: Approach
    when: tuple[Condition, ...] = Field(min_length=1)
    min_raw: float | None = None  # and the approach's raw score is at least this, when given
    reason: str
    field: str = "already_using"
    source: SourceIds = Field(min_length=1)

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _source_ids(value)

    @model_validator(mode="after")
    def _check(self) -> Keep:
        """It must test that the approach is in production."""
        if not any(c.field == "already_using" and c.contains == self.approach for c in self.when):
            raise ValueError(f"keep {self.approach}: `when` must contain already_using")
        _check_field(self.field)
        return self


class PlanConfig(_Data):
    """How the plan is assembled from the scores."""

    threshold: float
    why_not: float = -0.3  # negative rules this strong explain why an approach is not in the plan
    exclusive: tuple[tuple[Approach, ...], ...] = ()
    companion: tuple[Companion, ...] = ()
    keep: tuple[Keep, ...] = ()


class WhatIfConfig(_Data):
    """Which answers "what would change this" may offer: those a user can act on, and any
    answer left unknown (except `never`)."""

    never: tuple[str, ...] = ()
    act_up: tuple[str, ...] = ()  # a count may grow, a choice move later in its list, a list grow
    act_to: dict[str, tuple[Any, ...]] = {}  # from any other answer, only to these values

    @model_validator(mode="after")
    def _check(self) -> WhatIfConfig:
        """Known fields, allowed values."""
        for name in (*self.never, *self.act_up, *self.act_to):
            _check_field(name)
        for name, values in self.act_to.items():
            for value in values:
                if not FIELDS[name].check_value(value):
                    raise ValueError(f"[whatif] act_to {name}: {value!r} is not allowed")
        return self


class ConfidenceConfig(_Data):
    """Weights of the confidence formula (see engine.confidence)."""

    floor: float = Field(ge=0, le=1)
    base: float
    known: float
    margin: float
    margin_full: float = Field(gt=0)
    unsure_gap: float


class FallbackReason(_Data):
    """The reason given for a plan approach that no rule speaks for."""

    field: str
    text: str

    @model_validator(mode="after")
    def _check(self) -> FallbackReason:
        """The cited field must exist."""
        _check_field(self.field)
        return self


class ScoresConfig(_Data):
    """How raw scores are squashed into 0..1."""

    scale: float = Field(gt=0)


class RulesetData(_Data):
    """The whole rules.toml file."""

    ruleset: str = Field(pattern=r"^\d{4}\.\d{1,2}\.\d+$")
    base: dict[Approach, float]
    scores: ScoresConfig
    plan: PlanConfig
    confidence: ConfidenceConfig
    fallback_reason: dict[Approach, FallbackReason]
    rule: tuple[Rule, ...] = Field(min_length=1)
    prerequisite: tuple[PrerequisiteRule, ...] = ()
    technique_default: dict[TrainingApproach, str]
    technique: tuple[TechniqueRule, ...] = ()
    recipes: dict[Approach, dict[str, str]]
    whatif: WhatIfConfig = WhatIfConfig()
    source: dict[str, Source] = {}
    rung: tuple[Rung, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> RulesetData:
        """Cross-checks a per-item schema cannot express."""
        cited = [
            *((f"rule {r.id}", r.source) for r in self.rule),
            *((f"prerequisite {p.id}", p.source) for p in self.prerequisite),
            *((f"companion {c.add}", c.source) for c in self.plan.companion),
            *((f"keep {k.approach}", k.source) for k in self.plan.keep),
            *((f"rung {g.id}", g.source) for g in self.rung),
        ]
        for where, ids in cited:
            unknown = [i for i in ids if i not in self.source]
            if unknown:
                raise ValueError(f"{where} cites unknown source(s): {', '.join(unknown)}")
        for name, table in (("base", self.base), ("fallback_reason", self.fallback_reason)):
            missing = [a for a in APPROACHES if a not in table]
            if missing:
                raise ValueError(f"[{name}] lacks approaches: {', '.join(missing)}")
        seen: set[str] = set()
        for rule in self.rule:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        approach_of = {r.id: r.approach for r in self.rule}
        for c in self.plan.companion:
            for rid in c.if_fired:
                if approach_of.get(rid) != c.add:
                    raise ValueError(f"companion {c.add}: if_fired {rid!r} is no rule of {c.add}")
        for pre in self.prerequisite:
            _check_text(pre.reason)
            pre.cited  # noqa: B018 - validates the cited field
        for approach in TRAINING:
            variants = {self.technique_default.get(approach, "")}
            variants |= {t.variant for t in self.technique if t.approach == approach}
            for variant in variants:
                if variant not in self.recipes.get(approach, {}):
                    raise ValueError(f"no recipe for {approach} variant {variant!r} in [recipes]")
        for other in APPROACHES:
            if other not in TRAINING and "default" not in self.recipes.get(other, {}):
                raise ValueError(f"[recipes] {other} needs a 'default' playbook")
        return self

    @cached_property
    def rule_index(self) -> dict[str, int]:
        """Position of each rule by id."""
        return {r.id: k for k, r in enumerate(self.rule)}

    @cached_property
    def rules_by_field(self) -> dict[str, tuple[int, ...]]:
        """For each field, the indexes of the scoring rules that read it."""
        out: dict[str, list[int]] = {f: [] for f in FIELDS}
        for i, rule in enumerate(self.rule):
            for f in rule.fields:
                out[f].append(i)
        return {f: tuple(ix) for f, ix in out.items()}


def _describe(exc: ValidationError, data: dict[str, Any], source: str) -> str:
    """Turn pydantic's errors into lines that point at the rule by its id."""
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        where = ".".join(str(x) for x in loc)
        if len(loc) >= 2 and loc[0] in ("rule", "prerequisite", "technique"):
            try:
                item = data[str(loc[0])][int(loc[1])]
                where += f" (id {item.get('id', item.get('variant'))!r})"
            except (KeyError, IndexError, ValueError, TypeError, AttributeError):
                pass
        msg = str(err["msg"]).removeprefix("Value error, ")
        got = err.get("input")
        if err["type"] != "value_error" and isinstance(got, str | int | float | bool):
            msg += f" (got {got!r})"
        lines.append(f"  {where}: {msg}")
    return f"{source}: invalid ruleset:\n" + "\n".join(lines)


def parse_rules(data: dict[str, Any], source: str = "rules.toml") -> RulesetData:
    """Validate already-parsed TOML data; raise RulesError with a readable message."""
    try:
        return RulesetData.model_validate(data)
    except ValidationError as exc:
        raise RulesError(_describe(exc, data, source)) from None


def load_rules(path: Path = RULES_PATH) -> RulesetData:
    """Read and validate a rules file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_rules(data, path.name)


RULES: RulesetData = load_rules()
RULESET_VERSION: str = RULES.ruleset
