"""The screens' fieldset cache keeps only short typed values: its size cannot be driven by
what a stranger types."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.decision.bank import BANK
from app.web.html.questionnaire import CACHED_TEXT_MAX, _cacheable
from app.web.presenters.screens import QuestionView


def _view(exact: str = "", chosen: tuple[str, ...] = ()) -> QuestionView:
    question = next(q for q in BANK.questions if q.kind == "number")
    return QuestionView(
        id=question.id,
        question=question,
        pending=None,
        options=(),
        chosen=chosen,
        exact=exact,
        typing=False,
        unit=None,
        error=None,
        answered=False,
        answer=None,
    )


def test_short_values_are_cached_long_ones_are_not() -> None:
    assert _cacheable(_view("3k"))
    assert _cacheable(_view("9" * CACHED_TEXT_MAX))
    assert not _cacheable(_view("9" * (CACHED_TEXT_MAX + 1)))
    assert not _cacheable(replace(_view(), chosen=("x" * 10_000,)))


def test_a_question_view_is_kept_only_for_short_form_values() -> None:
    """The view cache keys on the form's inputs: a long typed value is built, never kept."""
    from app.web.presenters import screens

    question = next(q for q in BANK.questions if q.kind == "number")
    shown = screens.Shown(question)
    screens._view.cache_clear()
    short = screens._question_view(
        shown, {}, {question.id: [], f"{question.id}.exact": ["3k"]}, None
    )
    assert screens._view.cache_info().currsize == 1
    long_text = "9" * (screens.KEPT_TEXT_MAX + 1)
    form = {question.id: [], f"{question.id}.exact": [long_text]}
    built = screens._question_view(shown, {}, form, None)
    assert built.exact == long_text and short.exact == "3k"
    assert screens._view.cache_info().currsize == 1
    # A view carrying an error message is never kept either (the message may quote the input).
    with_error = screens._question_view(shown, {}, {question.id: ["x"]}, "Choose one.")
    assert with_error.error == "Choose one."
    assert screens._view.cache_info().currsize == 1


def test_parsed_answers_are_kept_for_short_values_and_refusals_never() -> None:
    from app.decision.bank import AnswerError, parse_form_answer
    from app.web.presenters import screens

    question = next(q for q in BANK.questions if q.kind == "number")
    screens._parse.cache_clear()
    assert screens._parsed(question.id, [], "3k", None) == parse_form_answer(
        question.id, [], typed="3k"
    )
    assert screens._parse.cache_info().currsize == 1
    with pytest.raises(AnswerError):
        screens._parsed(question.id, [], "lots", None)
    padded = " " * screens.KEPT_TEXT_MAX + "3000"  # parses (spaces are trimmed), long
    assert screens._parsed(question.id, [], padded, None) == 3000
    assert screens._parse.cache_info().currsize == 1


def test_csrf_signatures_are_kept_only_for_nonces_as_long_as_ours() -> None:
    from app.web import csrf

    csrf._kept_signature.cache_clear()
    ours, odd = "n" * 43, "n" * (csrf.CACHED_NONCE_MAX + 1)
    assert csrf._sign("key", ours) == csrf._signature("key", ours)
    assert csrf._sign("key", odd) == csrf._signature("key", odd)
    assert csrf._kept_signature.cache_info().currsize == 1
