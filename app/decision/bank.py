"""The question bank: versioned questions that map one-to-one onto profile fields."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field, model_validator

from app.decision.compiler import build, test_source, var
from app.decision.conditions import Condition
from app.decision.fields import BOOL, ENUM, FIELDS, INT, SET
from app.decision.profile import Profile
from app.decision.quantities import (
    ACCEPTED,
    MAX_COUNT,
    CountError,
    Unit,
    in_profile_units,
    parse_count,
)
from app.decision.rules import DATA_DIR, RULESET_VERSION

QUESTIONS_PATH = DATA_DIR / "questions.toml"
AnswerValue = str | int | bool | tuple[str, ...] | None
NOT_SURE = "not_sure"  # the form value of the "Not sure" choice
Kind = Literal["single", "multi", "number", "yes_no"]
_KIND_FOR_FIELD = {ENUM: "single", SET: "multi", INT: "number", BOOL: "yes_no"}


class BankError(ValueError):
    """The question bank file is malformed."""


class AnswerError(ValueError):
    """An answer the question does not accept; names the question and the allowed values."""

    def __init__(
        self,
        question_id: str,
        message: str,
        allowed: list[Any] | None = None,
        *,
        kind: str = "answer_error",
        plain: str | None = None,
    ) -> None:
        self.question_id = question_id
        self.allowed = allowed
        self.kind = kind  # "conflict": two inputs of one question disagree
        self.plain = plain  # the same in the page's words, when it differs from the generic one
        self.message = f"question '{question_id}': {message}"
        if allowed:
            shown = ", ".join(str(a).lower() if isinstance(a, bool) else str(a) for a in allowed)
            self.message += f"; allowed values: {shown}"
        super().__init__(self.message)


class Option(BaseModel):
    """One answer choice: the stored value and a one-line human label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: bool | int | str
    label: str = Field(min_length=1)
    # False: another question asks this (see its `offered_by`); the value stays valid for
    # stored answers and the API, and a form shows it only where an answer already holds it.
    offered: bool = True
    offered_by: str | None = None


class Question(BaseModel):
    """One step of the questionnaire; `field` is the profile field the answer fills."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    section: str
    kind: Kind
    title: str
    help: str
    example: str
    options: tuple[Option, ...] = ()
    not_sure: bool = False
    not_sure_label: str = "Not sure"
    # The answer shapes the recipe page, not the advice: asked whenever its show_if holds.
    for_recipe: bool = False
    show_if: tuple[Condition, ...] = ()
    unit: str | None = None
    # Units a typed count may be given in; the first is the profile's own (per = 1).
    units: tuple[Unit, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def field(self) -> str:
        """The profile field this question fills (its id, by design)."""
        return self.id

    @property
    def values(self) -> list[Any]:
        """The values of the listed options."""
        return [o.value for o in self.options]

    @property
    def all_options(self) -> tuple[Option, ...]:
        """The options to show, with the "Not sure" choice (value NOT_SURE) last if offered."""
        if not self.not_sure:
            return self.options
        return (*self.options, Option(value=NOT_SURE, label=self.not_sure_label))

    def form_options(self, chosen: Sequence[str] = ()) -> tuple[Option, ...]:
        """The options a form offers: every offered one, and any other an answer holds."""
        return tuple(o for o in self.options if o.offered or _as_form(o.value) in chosen)

    def label_for(self, value: Any) -> str | None:
        """The label of an option value, if listed."""
        return next((o.label for o in self.options if o.value == value), None)

    @model_validator(mode="after")
    def _check(self) -> Question:
        """The question must fit its profile field: kind, and every allowed value labelled."""
        info = FIELDS.get(self.id)
        if info is None:
            raise ValueError(
                f"question {self.id!r} is not a profile field; known: {', '.join(FIELDS)}"
            )
        if _KIND_FOR_FIELD[info.kind] != self.kind:
            raise ValueError(f"question {self.id!r} must be kind {_KIND_FOR_FIELD[info.kind]!r}")
        values = self.values
        if info.kind == INT:
            bad = [v for v in values if not info.check_value(v)]
        else:
            allowed = info.allowed or ()
            # bool is an int subclass: 1 must not pass for True, nor "1" for an enum id.
            kinds = {type(a) for a in allowed}
            bad = [v for v in values if not info.check_value(v) or type(v) not in kinds]
            missing = [v for v in allowed if v not in values]
            if missing:
                raise ValueError(f"question {self.id!r} has no label for: {missing}")
        hidden = [o for o in self.options if not o.offered]
        if any(o.offered_by is None for o in hidden) or not any(o.offered for o in self.options):
            raise ValueError(f"question {self.id!r}: an option not offered needs `offered_by`")
        if bad or len(set(map(repr, values))) != len(values):
            raise ValueError(f"question {self.id!r} has invalid or repeated option values: {bad}")
        if self.units and (self.kind != "number" or self.units[0].per != 1):
            raise ValueError(f"question {self.id!r}: units need a count, the first with per = 1")
        if len({u.id for u in self.units}) != len(self.units):
            raise ValueError(f"question {self.id!r} repeats a unit id")
        return self

    def unit_for(self, unit_id: str | None) -> Unit | None:
        """The unit with that id (None: the profile's own); AnswerError for an unknown one."""
        if not unit_id or not self.units:
            if unit_id and unit_id != (self.unit or ""):
                raise AnswerError(self.id, f"unit {unit_id!r} is not offered", kind="unit")
            return None
        found = next((u for u in self.units if u.id == unit_id), None)
        if found is None:
            raise AnswerError(
                self.id, f"unit {unit_id!r} is not offered", [u.id for u in self.units], kind="unit"
            )
        return found


class QuestionBank(BaseModel):
    """All questions in asking order, with the ruleset version they belong to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(alias="ruleset")
    questions: tuple[Question, ...] = Field(alias="question", min_length=1)

    @model_validator(mode="after")
    def _check(self) -> QuestionBank:
        """Unique ids, same version as the rules, skip logic only on earlier questions."""
        if self.version != RULESET_VERSION:
            raise ValueError(f"bank version {self.version} differs from rules {RULESET_VERSION}")
        seen: set[str] = set()
        for q in self.questions:
            if q.id in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            for c in q.show_if:
                if c.field not in seen:
                    raise ValueError(
                        f"question {q.id!r}: show_if uses {c.field!r}, not asked before it"
                    )
            seen.add(q.id)
        return self

    @cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def get(self, question_id: str) -> Question:
        """The question with this id; AnswerError if there is none."""
        q = self._by_id.get(question_id)
        if q is None:
            raise AnswerError(question_id, "no such question", list(self._by_id))
        return q


def load_bank(path: Path = QUESTIONS_PATH) -> QuestionBank:
    """Read and validate a question bank file."""
    try:
        return QuestionBank.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise BankError(f"{path.name}: invalid question bank: {exc}") from None


BANK: QuestionBank = load_bank()


_COUNT_RULE = f"give a whole number >= 0, at most {MAX_COUNT:,}"


def _whole(question: Question, raw: Any) -> int:
    """A whole number from 0 to MAX_COUNT, or AnswerError."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_COUNT:
        raise AnswerError(question.id, f"{raw!r} is not valid: {_COUNT_RULE}")
    return raw


def parse_answer(question_id: str, raw: Any) -> AnswerValue:
    """Validate a typed answer (as from JSON); None means "not sure"."""
    q = BANK.get(question_id)
    if raw is None:
        if q.not_sure:
            return None
        raise AnswerError(q.id, "an answer is required", q.values)
    if q.kind == "number":
        return _whole(q, raw)
    if q.kind == "multi":
        if not isinstance(raw, list | tuple):
            raise AnswerError(q.id, f"{raw!r} is not a list", q.values)
        bad = [v for v in raw if v not in q.values or not isinstance(v, str)]
        if bad:
            raise AnswerError(q.id, f"{bad[0]!r} is not allowed", q.values)
        return tuple(v for v in q.values if v in raw)
    if q.kind == "yes_no":
        if not isinstance(raw, bool):
            raise AnswerError(q.id, f"{raw!r} is not valid: answer true or false", q.values)
        return raw
    if not isinstance(raw, str) or raw not in q.values:
        raise AnswerError(q.id, f"{raw!r} is not allowed", q.values)
    return raw


_YES = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_form_answer(
    question_id: str,
    values: list[str],
    *,
    typed: str | None = None,
    unit: str | None = None,
) -> AnswerValue:
    """Validate an answer from an HTML form (all strings); "not_sure" means unknown.

    `typed` is the free number field of a count question, `unit` the unit it was given in.
    Two inputs that disagree (a preset and a different typed number; "Not sure" beside an
    answer) are a conflict, never resolved by guessing which one was meant.
    """
    q = BANK.get(question_id)
    items = [v.strip() for v in values if v.strip()]
    text = (typed or "").strip()
    if NOT_SURE in items:
        others = [v for v in items if v != NOT_SURE] + ([text] if text else [])
        if others:
            shown = ", ".join(_shown(q, v) for v in others)
            raise AnswerError(
                q.id,
                f"conflict: {q.not_sure_label!r} together with {shown}",
                kind="conflict",
                plain=f"You chose “{q.not_sure_label}” and also {shown}: keep only one.",
            )
        return parse_answer(q.id, None)
    if q.kind == "multi":
        return parse_answer(q.id, items)
    if q.kind == "number":
        return _form_count(q, items, text, unit)
    if len(items) != 1:
        raise AnswerError(q.id, "choose exactly one answer", q.values)
    if q.kind == "yes_no":
        if items[0].lower() not in _YES:
            raise AnswerError(q.id, f"{items[0]!r} is not valid: answer yes or no", q.values)
        return _YES[items[0].lower()]
    return parse_answer(q.id, items[0])


def _shown(question: Question, form_value: str) -> str:
    """A form value as the page showed it: its label, else the text typed."""
    label = next((o.label for o in question.options if _as_form(o.value) == form_value), None)
    return f"“{label}”" if label else f"“{form_value}”"


def _as_form(value: Any) -> str:
    """An option value as its form field carries it."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _form_count(q: Question, items: list[str], text: str, unit_id: str | None) -> int:
    """A count question's answer: one preset, or a typed number in one of its units."""
    presets = [_preset(q, v) for v in items]
    if len(presets) > 1:
        raise AnswerError(q.id, "choose exactly one answer", q.values)
    if text:
        unit = q.unit_for(unit_id)
        try:
            count = parse_count(text)
            value = in_profile_units(count, unit) if unit else count
        except CountError as exc:
            raise AnswerError(
                q.id, str(exc), plain=f"“{text}” is not a number this form reads: give {ACCEPTED}."
            ) from None
        if presets and presets[0] != value:
            label = _shown(q, items[0])
            raise AnswerError(
                q.id,
                f"conflict: the answer {label} and the typed number {text!r} differ",
                kind="conflict",
                plain=f"You chose {label} and typed “{text}”: keep only one.",
            )
        return _whole(q, value)
    if not presets:
        raise AnswerError(q.id, "choose exactly one answer", q.values)
    return presets[0]


def _preset(q: Question, form_value: str) -> int:
    """The count a preset choice stands for (a listed value, or any count as people write it)."""
    try:
        return _whole(q, parse_count(form_value))
    except CountError as exc:
        raise AnswerError(q.id, str(exc)) from None


Walk = Callable[[Mapping[str, Any]], tuple[list[Question], dict[str, Any]]]


def compile_walk(questions: Sequence[Question]) -> Walk:
    """Generate the walk over the bank as straight-line code: one `if` per conditional question.

    Every step page and answer walks the bank; testing the conditions as data costs several
    times more. A question's conditions only read answers asked before it (the bank checks),
    and an answer counts only when its question is shown, so a hidden question reads as unknown.
    """
    consts: dict[str, Any] = {}
    lines = ["def walk(answers):", "    get = answers.get", "    visible = []", "    values = {}"]
    for i, q in enumerate(questions):
        consts[f"_q{i}"] = q
        name = var(q.field)
        body = [
            f"visible.append(_q{i})",
            f"{name} = get({q.id!r})",
            f"if {name} is not None:",
            f"    values[{q.id!r}] = {name}",
        ]
        if not q.show_if:
            lines += [f"    {line}" for line in body]
            continue
        lines.append(f"    if {test_source(q.show_if, consts)}:")
        lines += [f"        {line}" for line in body]
        lines += ["    else:", f"        {name} = None"]
    lines.append("    return visible, values")
    walk: Walk = build("walk", lines, consts)
    return walk


_effective = compile_walk(BANK.questions)


def visible_questions(answers: Mapping[str, Any]) -> list[Question]:
    """The questions on the branch these answers take, in asking order."""
    return _effective(answers)[0]


# Asking order by id: `tuple.index` on the models would compare every field of each question.
_POSITION = {q.id: i for i, q in enumerate(BANK.questions)}


def next_question(answers: Mapping[str, Any], after: str | None = None) -> Question | None:
    """The first visible question after `after` (or the first one), or None at the end."""
    position = -1 if after is None else _POSITION[BANK.get(after).id]
    for q in visible_questions(answers):
        if _POSITION[q.id] > position:
            return q
    return None


def profile_from_answers(answers: Mapping[str, Any]) -> Profile:
    """The profile for stored answers; answers off the taken branch are ignored."""
    for qid, raw in answers.items():
        parse_answer(qid, list(raw) if isinstance(raw, tuple) else raw)
    values = _effective(answers)[1]
    return Profile.model_validate(
        {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    )


def answers_from_profile(profile: Profile) -> dict[str, AnswerValue]:
    """The answers that produce this profile (fields off the taken branch are dropped)."""
    known = {q.id: getattr(profile, q.field) for q in BANK.questions}
    return _effective({k: v for k, v in known.items() if v is not None})[1]


def walk(answers: Mapping[str, Any]) -> tuple[list[Question], dict[str, Any]]:
    """One pass over the bank: the visible questions and the answers that count (answered)."""
    return _effective(answers)


class Screen(BaseModel):
    """One screen of the questionnaire: the questions of one section, in asking order."""

    model_config = ConfigDict(frozen=True)

    slug: str
    title: str
    questions: tuple[Question, ...]


def _screens(questions: Sequence[Question]) -> tuple[Screen, ...]:
    """The bank's sections, in order of first appearance, as screens."""
    by_section: dict[str, list[Question]] = {}
    for q in questions:
        by_section.setdefault(q.section, []).append(q)
    return tuple(
        Screen(slug="-".join(title.lower().split()), title=title, questions=tuple(qs))
        for title, qs in by_section.items()
    )


SCREENS: tuple[Screen, ...] = _screens(BANK.questions)
SCREEN_OF: dict[str, Screen] = {q.id: s for s in SCREENS for q in s.questions}


def screen_by_slug(slug: str) -> Screen | None:
    """The screen with that slug, if any."""
    return next((s for s in SCREENS if s.slug == slug), None)


def only_if(question: Question) -> list[tuple[Question, str]]:
    """The earlier questions a question depends on, each with a phrase saying when it applies."""
    found = []
    for c in question.show_if:
        asked = BANK.get(c.field)
        if c.in_ is not None:
            labels = [asked.label_for(v) or str(v) for v in c.in_]
            found.append((asked, "only if you answered " + " or ".join(f"“{x}”" for x in labels)))
        elif c.not_in is not None:
            labels = [asked.label_for(v) or str(v) for v in c.not_in]
            found.append((asked, "not if you answered " + " or ".join(f"“{x}”" for x in labels)))
    return found
