"""Question bank integrity: coverage, labels, skip logic, round trips, answer errors."""

from __future__ import annotations

import copy
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.decision import bank as bank_module
from app.decision.bank import (
    BANK,
    NOT_SURE,
    AnswerError,
    BankError,
    QuestionBank,
    answers_from_profile,
    load_bank,
    next_question,
    parse_answer,
    parse_form_answer,
    profile_from_answers,
    visible_questions,
)
from app.decision.engine import recommend
from app.decision.fields import FIELDS, SET
from app.decision.profile import APPROACHES, PROFILE_FIELDS, Profile
from app.decision.rules import RULESET_VERSION


def test_version_matches_rules() -> None:
    """Questions and rules are one versioned ruleset."""
    assert BANK.version == RULESET_VERSION


def test_every_field_is_asked() -> None:
    """Every profile field is reachable by exactly one question."""
    assert sorted(q.field for q in BANK.questions) == sorted(PROFILE_FIELDS)


def test_every_value_has_a_label() -> None:
    """Every enum, list and yes/no value of the profile has a one-line label."""
    for q in BANK.questions:
        info = FIELDS[q.field]
        if info.allowed is None:
            assert q.kind == "number"
            continue
        for value in info.allowed:
            label = q.label_for(value)
            assert label and "\n" not in label, (q.id, value)


def test_questions_are_complete() -> None:
    """Each question has a title, help text and an example; the bank has 12-32 questions."""
    for q in BANK.questions:
        assert q.title and q.help and q.example, q.id
    assert 12 <= len(BANK.questions) <= 32


def test_show_if_uses_earlier_questions() -> None:
    """Skip logic only looks back, and only at values the earlier question offers."""
    seen: set[str] = set()
    for q in BANK.questions:
        for cond in q.show_if:
            assert cond.field in seen, (q.id, cond.field)
        seen.add(q.id)


def _answers_showing(question_id: str) -> dict[str, Any]:
    """Answers to earlier questions that satisfy the question's skip logic."""
    q = BANK.get(question_id)
    answers: dict[str, Any] = {}
    for cond in q.show_if:
        earlier = BANK.get(cond.field)
        choices: list[Any] = [None, *earlier.values]
        answers[cond.field] = next(v for v in choices if cond.test(v))
    return answers


@pytest.mark.parametrize("question_id", [q.id for q in BANK.questions])
def test_no_dead_branch(question_id: str) -> None:
    """Every question is shown for some answers, and hidden ones are hidden for a reason."""
    shown = [q.id for q in visible_questions(_answers_showing(question_id))]
    assert question_id in shown


def test_skip_logic_examples() -> None:
    """The branches the contract asks for."""
    behaviour = [q.id for q in visible_questions({"gap": "behavior"})]
    for hidden in ("corpus_tokens", "knowledge_change", "knowledge_kind", "needs_citations"):
        assert hidden not in behaviour
    assert "best_prompt_result" not in [q.id for q in visible_questions({"prompting": "not_tried"})]
    assert "gpu" not in [q.id for q in visible_questions({"deployment": "hosted_api"})]
    assert "gpu" in [q.id for q in visible_questions({"deployment": "self_hosted"})]
    taken = visible_questions(
        {
            "gap": "behavior",
            "prompting": "not_tried",
            "labeled_examples": 0,
            "deployment": "hosted_api",
        }
    )
    assert 12 <= len(taken) <= 26


def test_the_hosted_provider_is_asked_of_hosted_api_users_only() -> None:
    """It follows "Where must the model run?" and marks itself as the recipe's, not the rules'."""
    q = BANK.get("hosted_provider")
    assert q.for_recipe and q.not_sure
    assert [b.id for b in BANK.questions if b.for_recipe] == ["hosted_provider"]
    for deployment, asked in (("hosted_api", True), ("self_hosted", False), ("on_device", False)):
        ids = [v.id for v in visible_questions({"deployment": deployment})]
        assert ("hosted_provider" in ids) is asked
    profile = profile_from_answers({"deployment": "hosted_api", "hosted_provider": "together"})
    assert profile.hosted_provider == "together"
    gone = profile_from_answers({"deployment": "self_hosted", "hosted_provider": "together"})
    assert gone.hosted_provider is None


def test_next_question_walks_the_branch() -> None:
    """next_question follows the visible branch and ends with None."""
    answers: dict[str, Any] = {"gap": "behavior"}
    assert next_question(answers).id == "gap"  # type: ignore[union-attr]
    walked, current = [], next_question(answers)
    while current is not None:
        walked.append(current.id)
        current = next_question(answers, current.id)
    assert walked == [q.id for q in visible_questions(answers)]
    assert next_question(answers, "task_kind").id == "task_breadth"  # type: ignore[union-attr]
    assert next_question(answers, "languages").id == "prompting"  # type: ignore[union-attr]


def _interpreted_walk(answers: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The walk with every condition evaluated as data: what the generated walk must equal."""
    visible: list[str] = []
    values: dict[str, Any] = {}
    for q in BANK.questions:
        if all(c.test(values.get(c.field)) for c in q.show_if):
            visible.append(q.id)
            if answers.get(q.id) is not None:
                values[q.id] = answers[q.id]
    return visible, values


@st.composite
def any_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Answers to any questions, on or off the branch, including "not sure"."""
    answers: dict[str, Any] = {}
    for q in BANK.questions:
        if draw(st.booleans()):
            if q.kind == "multi":
                picked = draw(st.lists(st.sampled_from(q.values), unique=True))
                answers[q.id] = tuple(v for v in q.values if v in picked)
            elif q.kind == "number":
                answers[q.id] = draw(st.one_of(st.none(), st.integers(0, 10**9)))
            else:
                answers[q.id] = draw(st.sampled_from([None, *q.values]))
    return answers


@settings(max_examples=300, deadline=None)
@given(any_answers())
def test_generated_walk_matches_the_conditions(answers: dict[str, Any]) -> None:
    """The compiled walk shows and counts exactly what the conditions say."""
    visible, counted = bank_module.walk(answers)
    assert ([q.id for q in visible], counted) == _interpreted_walk(answers)


@st.composite
def walked_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Answers given by walking the questionnaire, choosing options or "not sure"."""
    answers: dict[str, Any] = {}
    current = next_question(answers)
    while current is not None:
        if draw(st.booleans()):  # the user may skip a question
            choices: list[Any] = [None] if current.not_sure else []
            if current.kind == "multi":
                picked = draw(st.lists(st.sampled_from(current.values), unique=True))
                choices.append(tuple(v for v in current.values if v in picked))
            else:
                choices += current.values
            if current.kind == "number":
                choices.append(draw(st.integers(0, 10**8)))
            value = draw(st.sampled_from(choices))
            answers[current.id] = parse_answer(current.id, value)
        current = next_question(answers, current.id)
    return answers


@settings(max_examples=150, deadline=None)
@given(walked_answers())
def test_answers_profile_round_trip(answers: dict[str, Any]) -> None:
    """Stored answers become a profile and back without loss."""
    profile = profile_from_answers(answers)
    back = answers_from_profile(profile)
    assert back == {k: v for k, v in answers.items() if v is not None}
    assert profile_from_answers(back) == profile


def test_answers_off_the_branch_are_ignored() -> None:
    """An answer to a question the branch skips does not reach the profile."""
    profile = profile_from_answers({"gap": "behavior", "corpus_tokens": 5_000_000})
    assert profile.corpus_tokens is None and profile.gap == "behavior"


def test_every_approach_is_reachable_as_primary() -> None:
    """Some questionnaire answers lead to each approach (seeded random search)."""
    rng = random.Random(11)
    seen: set[str] = set()
    for _ in range(4000):
        answers: dict[str, Any] = {}
        current = next_question(answers)
        while current is not None:
            if rng.random() < 0.8:
                answers[current.id] = _random_answer(rng, current)
            current = next_question(answers, current.id)
        seen.add(recommend(profile_from_answers(answers)).primary)
        if seen == set(APPROACHES):
            break
    assert seen == set(APPROACHES)


def _random_answer(rng: random.Random, question: Any) -> Any:
    """A random valid answer to a question."""
    if question.kind == "multi":
        return tuple(v for v in question.values if rng.random() < 0.3)
    if question.kind == "number" and rng.random() < 0.5:
        return int(10 ** rng.uniform(0, 8))
    return rng.choice(question.values)


def test_parse_answer_errors_name_question_and_values() -> None:
    """A bad answer names the question/field and lists what is allowed."""
    with pytest.raises(AnswerError) as err:
        parse_answer("gap", "knowlege")
    assert (
        "'gap'" in err.value.message
        and "knowledge, behavior, both, cost_or_latency, unsure" in err.value.message
    )
    assert err.value.allowed == ["knowledge", "behavior", "both", "cost_or_latency", "unsure"]
    with pytest.raises(AnswerError, match="whole number >= 0"):
        parse_answer("labeled_examples", -5)
    with pytest.raises(AnswerError, match="whole number"):
        parse_answer("labeled_examples", True)
    with pytest.raises(AnswerError, match="'prefs' is not allowed"):
        parse_answer("supervision", ["prefs"])
    with pytest.raises(AnswerError, match="true or false"):
        parse_answer("needs_citations", "yes")
    with pytest.raises(AnswerError, match="no such question"):
        parse_answer("colour", "blue")
    with pytest.raises(AnswerError, match="required"):
        parse_answer("gap", None)  # gap has its own "unsure" value instead of "not sure"


def test_parse_answer_normalises() -> None:
    """Lists come back in the bank's order as tuples; "not sure" is None."""
    assert parse_answer("supervision", ["grader", "demonstrations"]) == ("demonstrations", "grader")
    assert parse_answer("risk", None) is None
    assert parse_answer("corpus_tokens", 0) == 0


def test_all_options_end_with_not_sure() -> None:
    """Questions that allow it offer "Not sure", which parses back to unknown."""
    risk = BANK.get("risk").all_options
    assert risk[-1].value == NOT_SURE and risk[-1].label == "Not sure"
    assert parse_form_answer("risk", [str(risk[-1].value)]) is None
    assert BANK.get("gap").all_options == BANK.get("gap").options  # gap has its own "unsure"


def test_parse_form_answer() -> None:
    """HTML form strings become typed answers."""
    assert parse_form_answer("corpus_tokens", ["1,500,000"]) == 1_500_000
    assert parse_form_answer("needs_citations", ["yes"]) is True
    assert parse_form_answer("finetuning_available", ["false"]) is False
    assert parse_form_answer("already_using", ["rag", "prompting"]) == ("prompting", "rag")
    assert parse_form_answer("already_using", []) == ()
    assert parse_form_answer("risk", [NOT_SURE]) is None
    assert parse_form_answer("gap", ["both"]) == "both"
    with pytest.raises(AnswerError, match="exactly one"):
        parse_form_answer("gap", ["both", "knowledge"])
    with pytest.raises(AnswerError, match="whole number"):
        parse_form_answer("monthly_requests", ["lots"])


@pytest.mark.parametrize("typed", ["²", "١٢", "9" * 5000, str(10**15 + 1), "-3"])
def test_form_counts_out_of_reach_are_answer_errors(typed: str) -> None:
    """Digits int() refuses and counts no store keeps exactly are refused, never crash."""
    with pytest.raises(AnswerError, match="whole number"):
        parse_form_answer("monthly_requests", [typed])
    with pytest.raises(AnswerError, match="at most"):
        parse_answer("corpus_tokens", 2**63)
    assert parse_form_answer("monthly_requests", [f"{10**15:,}"]) == 10**15


def test_multi_fields_are_lists_in_profile() -> None:
    """List answers land in the profile as tuples of allowed values."""
    profile = profile_from_answers({"already_using": ("rag",), "supervision": ()})
    assert profile.already_using == ("rag",) and profile.supervision == ()
    assert all(FIELDS[q.field].kind == SET for q in BANK.questions if q.kind == "multi")


def _question(data: dict[str, Any], question_id: str) -> dict[str, Any]:
    """One question of raw bank data, by id."""
    return next(q for q in data["question"] if q["id"] == question_id)


def _raw_bank() -> dict[str, Any]:
    return tomllib.loads(bank_module.QUESTIONS_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    """Write bank data back as TOML (only the shapes the bank uses)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"

    lines = [f'ruleset = "{data["ruleset"]}"']
    for q in data["question"]:
        lines.append("[[question]]")
        lines += [f"{k} = {value(v)}" for k, v in q.items()]
    path = tmp_path / "questions.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_loader_accepts_the_real_bank(tmp_path: Path) -> None:
    """The writer used below round-trips the real file."""
    assert isinstance(load_bank(_write(tmp_path, _raw_bank())), QuestionBank)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["question"][0]["options"].pop(), "no label for"),
        (lambda d: d["question"][0].update(id="gapp"), "not a profile field"),
        (lambda d: d["question"][0].update(kind="multi"), "must be kind 'single'"),
        (lambda d: d["question"].reverse(), "not asked before it"),
        (
            lambda d: _question(d, "knowledge_kind")["show_if"][0].update(not_in=["behaviour"]),
            "not allowed",
        ),
        (lambda d: d.update(ruleset="1999.1.1"), "differs from rules"),
        (lambda d: d["question"].append(copy.deepcopy(d["question"][1])), "used twice"),
    ],
)
def test_loader_rejects_bad_banks(tmp_path: Path, mutate: Any, message: str) -> None:
    """A broken bank file fails at load with a message saying what is wrong."""
    data = _raw_bank()
    mutate(data)
    with pytest.raises(BankError, match=message):
        load_bank(_write(tmp_path, data))


def test_profile_from_answers_rejects_bad_answers() -> None:
    """Stored answers are validated again."""
    with pytest.raises(AnswerError):
        profile_from_answers({"gap": "facts"})
    assert profile_from_answers({}) == Profile()
