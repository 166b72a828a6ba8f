"""The screens' fieldset cache keeps only short typed values: its size cannot be driven by
what a stranger types."""

from __future__ import annotations

from dataclasses import replace

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
