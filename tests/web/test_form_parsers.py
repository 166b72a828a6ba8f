"""Property tests (hypothesis) on the parsers behind the forms, each called directly: any text
is a value or the parser's own error naming the field and what is allowed; a valid value
round-trips. The same forms through a real app: tests/web/test_form_properties.py."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.decision.bank import BANK, NOT_SURE, AnswerError, parse_form_answer
from app.decision.quantities import ACCEPTED, MAX_COUNT, CountError, parse_count
from app.recipes import params
from app.recipes.errors import RecipeError
from app.services import dashboard
from app.services.accounts import AccountError, check_password
from app.web.html.dashboard import _date, _number
from app.web.presenters.sharing import EXPIRY_CHOICES, expiry_choice
from tests.web.test_form_properties import ODD

TEXT = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=60),
    st.lists(st.sampled_from(ODD[:20]), min_size=2, max_size=3).map("".join),
    st.integers().map(str),
)
QUESTIONS = [q.id for q in BANK.questions]


def _form(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("question_id", QUESTIONS)
@given(values=st.lists(TEXT, max_size=3), typed=st.none() | TEXT, unit=st.none() | TEXT)
def test_an_answer_form_is_a_value_or_an_error_naming_its_question(
    question_id: str, values: list[str], typed: str | None, unit: str | None
) -> None:
    try:
        parse_form_answer(question_id, values, typed=typed, unit=unit)
    except AnswerError as exc:
        assert exc.question_id == question_id
        assert str(exc).strip()
        question = BANK.get(question_id)
        if question.kind in ("single", "multi") and exc.kind == "answer_error" and exc.allowed:
            assert set(exc.allowed) <= set(question.values)


@pytest.mark.parametrize("question_id", QUESTIONS)
def test_every_offered_answer_round_trips(question_id: str) -> None:
    question = BANK.get(question_id)
    for option in question.options:
        form = NOT_SURE if option.value is None else _form(option.value)
        parsed = parse_form_answer(question_id, [form])
        expected = (option.value,) if question.kind == "multi" and option.value else option.value
        if question.kind == "multi" and option.value is None:
            expected = None
        assert parsed == expected, (question_id, form)


@given(st.integers(0, MAX_COUNT))
def test_a_typed_count_round_trips(n: int) -> None:
    question = next(q for q in BANK.questions if q.kind == "number")
    assert parse_form_answer(question.id, [], typed=str(n)) == n
    assert parse_form_answer(question.id, [], typed=f"{n:,}") == n


@given(TEXT)
def test_a_count_is_a_number_or_says_what_is_accepted(text: str) -> None:
    try:
        value = parse_count(text)
    except CountError as exc:
        assert ACCEPTED in str(exc) or f"{MAX_COUNT:,}" in str(exc)
    else:
        assert 0 <= value <= MAX_COUNT


RECIPE_KEYS = sorted(params.PARAM_KEYS)


@pytest.mark.parametrize("key", RECIPE_KEYS)
@given(value=TEXT)
def test_a_recipe_parameter_is_a_value_or_an_error_naming_its_key(key: str, value: str) -> None:
    try:
        params._coerce(key, value)
    except RecipeError as exc:
        assert exc.key == key
        assert key in exc.message and ("expected" in exc.message or "allowed" in exc.message)


@given(st.integers(1, 100_000_000))
def test_a_recipe_number_round_trips(n: int) -> None:
    assert params._coerce("examples", str(n)) == n
    assert params._coerce("params_b", str(n / 1e6)) == pytest.approx(n / 1e6)


@given(key=TEXT, value=TEXT)
def test_an_unknown_recipe_parameter_names_the_allowed_keys(key: str, value: str) -> None:
    if key.strip() in params.PARAM_KEYS:
        return
    with pytest.raises(RecipeError) as raised:
        params.parse_assignments([f"{key}={value}"])
    assert "allowed" in raised.value.message or "KEY=VALUE" in raised.value.message


@given(since=TEXT, until=TEXT, page=TEXT, status=TEXT, primary=TEXT, sort=TEXT)
def test_dashboard_filters_are_a_query_or_an_error_naming_the_filter(
    since: str, until: str, page: str, status: str, primary: str, sort: str
) -> None:
    try:
        dashboard.DashboardQuery(
            status=status or None,
            primary=primary or None,
            sort=sort or "-updated",
            since=_date(since, "since"),
            until=_date(until, "until"),
            page=_number(page, "page", 1),
        )
    except dashboard.DashboardError as exc:
        assert exc.field in {"since", "until", "page", "status", "primary", "sort"}
        assert str(exc).strip()


@given(st.integers(1, dashboard.MAX_PAGE))
def test_a_dashboard_page_round_trips(page: int) -> None:
    assert dashboard.DashboardQuery(page=_number(str(page), "page", 1)).page == page


@given(TEXT)
def test_a_share_expiry_is_a_choice_or_lists_the_choices(text: str) -> None:
    choices = [choice for choice, _ in EXPIRY_CHOICES]
    try:
        days = expiry_choice(text)
    except ValueError as exc:
        assert all(choice in str(exc) for choice in choices)
    else:
        assert text in choices and (days is None or str(days) == text)


@given(TEXT)
def test_a_password_is_accepted_or_refused_by_its_length(text: str) -> None:
    try:
        check_password(text)
    except AccountError as exc:
        assert exc.field == "password" and "characters" in str(exc)
