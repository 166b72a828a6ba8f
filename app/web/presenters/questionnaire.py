"""What the questionnaire's pages show: start, one step, review; built from an assessment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.decision.bank import BANK, NOT_SURE, SCREEN_OF, AnswerError, Question, next_question
from app.decision.quantities import ACCEPTED
from app.services.assessments import AssessmentRecord, AssessmentState
from app.web.errors import PageNotFound
from app.web.presenters import urls


@dataclass(frozen=True)
class Progress:
    """Where a step stands in the branch actually taken."""

    position: int
    total: int


def question_or_404(question_id: str) -> Question:
    """The question with that id, or a 404."""
    try:
        return BANK.get(question_id)
    except AnswerError:
        raise PageNotFound("question_id", f"there is no question {question_id!r}") from None


def applies(state: AssessmentState, question_id: str) -> bool:
    """Whether the question is on the branch the current answers take."""
    return any(q.id == question_id for q in state.visible)


def resume_url(state: AssessmentState) -> str:
    """The next unanswered step, else the review page."""
    a = state.assessment
    if state.next_question is not None:
        return urls.step(a.id, state.next_question)
    return urls.review(a.id)


def url_after(answers: Mapping[str, Any], assessment_id: str, question_id: str) -> str:
    """The step after this one on the branch these answers take, else the review page."""
    following = next_question(answers, after=question_id)
    if following is None:
        return urls.review(assessment_id)
    return urls.step(assessment_id, following.id)


def form_error(
    question: Question,
    values: list[str],
    refused: AnswerError | None = None,
    typed: str | None = None,
) -> str:
    """What to tell a person whose answer was refused, in the page's own words."""
    if refused is not None and refused.plain:
        return refused.plain
    unsure = f", or choose “{question.not_sure_label}”" if question.not_sure else ""
    if not any(v.strip() for v in [*values, typed or ""]):
        if question.kind == "number":
            return f"Choose one of the answers or type a number{unsure}."
        if question.kind == "multi":
            return f"Tick at least one answer{unsure}."
        return f"Choose an answer to continue{unsure}."
    if question.kind == "number":
        return f"Type {ACCEPTED}, or choose one of the answers."
    if question.kind == "multi":
        return "Tick only the answers listed."
    return "Choose one of the answers listed."


def answer_label(question: Question, value: Any) -> str:
    """An answer as the user chose it, in words."""
    if value is None:
        return question.not_sure_label
    labels = {option.value: option.label for option in question.options}
    if isinstance(value, list | tuple):
        return ", ".join(labels.get(v, str(v)) for v in value) or "None of these"
    if value in labels:
        return labels[value]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return f"{value:,}" + (f" {question.unit}" if question.unit else "")
    return str(value)


def step_context(
    state: AssessmentState,
    question: Question,
    *,
    submitted: list[str] | None,
    error: str | None,
    returning: bool = False,
    unit: str | None = None,
) -> dict[str, Any]:
    """Context of one step page: the question, the answer so far, progress and Back.

    `returning`: the user came from the review page, and saving goes back there.
    """
    ids = [q.id for q in state.visible]
    position = ids.index(question.id) + 1 if question.id in ids else len(ids)
    a = state.assessment
    back = urls.step(a.id, ids[position - 2]) if position > 1 else urls.home()
    if submitted is not None:
        chosen = submitted
    elif question.id in state.answers:
        chosen = form_values(state.answers[question.id])
    else:
        chosen = []
    options = _options(question.id, tuple(chosen))
    listed = {form_value(o.value) for o in question.options}
    exact = next((c for c in chosen if c not in listed and c != NOT_SURE), "")
    return {
        "assessment": a,
        "question": question,
        "chosen": chosen,
        "exact": exact,
        "unit": unit or (question.units[0].id if question.units else None),
        "accepted": ACCEPTED,
        "options": options,
        "not_sure_value": NOT_SURE,
        "answered": question.id in state.answers,
        "error": error,
        "returning": returning,
        "progress": Progress(position, len(ids)),
        "back_url": back,
        "action": urls.step(a.id, question.id),
        "review_url": urls.review(a.id),
        "resume_url": urls.assessment(a.id),
        "ruleset": BANK.version,
    }


@lru_cache(maxsize=256)
def _options(question_id: str, chosen: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """A question's choices as (form value, label) (an option another question asks only
    when the answer holds it)."""
    offered = BANK.get(question_id).form_options(chosen)
    return tuple((form_value(o.value), o.label) for o in offered)


def form_value(value: Any) -> str:
    """One answer value as its form field carries it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_values(value: Any) -> list[str]:
    """A stored answer as the strings its form fields would carry."""
    if value is None:
        return [NOT_SURE]
    if isinstance(value, list | tuple):
        return [form_value(v) for v in value]
    return [form_value(value)]


def review_context(state: AssessmentState, asked: set[str] | None = None) -> dict[str, Any]:
    """Context of the review page: answers on the branch by section, and those not applying.

    `asked`: the questions the screens ask (the rest of the branch cannot change the advice
    and is listed as skipped); None counts the whole branch.
    """
    a = state.assessment
    sections: dict[str, list[dict[str, Any]]] = {}
    skipped = []
    for question in state.visible:
        if asked is not None and question.id not in asked and question.id not in state.answers:
            skipped.append(question)
            continue
        sections.setdefault(question.section, []).append(
            {
                "question": question,
                "answered": question.id in state.answers,
                "answer": answer_label(question, state.answers.get(question.id)),
                "edit": urls.change_screen(a.id, SCREEN_OF[question.id].slug, question.id),
            }
        )
    stale = [
        {"question": BANK.get(q), "answer": answer_label(BANK.get(q), state.answers[q])}
        for q in state.not_applicable
    ]
    missing = sum(1 for rows in sections.values() for row in rows if not row["answered"])
    return {
        "assessment": a,
        "sections": list(sections.items()),
        "stale": stale,
        "skipped": skipped,
        "missing": missing,
        "action": urls.review(a.id),
        "ruleset": BANK.version,
    }


def index_context(
    resume: AssessmentRecord | None,
    *,
    held: Sequence[Any] = (),
    estimate: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """Context of the start page: the estimate, the start form, any resume link, and the
    assessments this browser holds keys for (newest first, a few; the rest on My assessments)."""
    minutes, screen_count = estimate
    return {
        "resume": resume,
        "resume_url": urls.assessment(resume.id) if resume else None,
        "questions": BANK.questions,
        "minutes": minutes,
        "screen_count": screen_count,
        "held": [
            {
                "title": h.title or "Untitled assessment",
                "url": urls.assessment(h.id),
                "status": h.status,
                "updated_at": h.updated_at,
            }
            for h in list(held)[:5]
        ],
        "more_held": len(held) > 5,
        "mine_url": urls.my_assessments(),
        "action": urls.new_assessment(),
        "how_url": urls.how_it_decides(),
        "ruleset": BANK.version,
    }
