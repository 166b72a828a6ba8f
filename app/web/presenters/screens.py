"""The questionnaire by screen: one section of the bank per screen, only what can matter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from app.decision.bank import (
    BANK,
    NOT_SURE,
    SCREEN_OF,
    SCREENS,
    AnswerError,
    Question,
    Screen,
    only_if,
    parse_form_answer,
    screen_by_slug,
    walk,
)
from app.decision.profile import Profile
from app.decision.quantities import ACCEPTED
from app.decision.relevance import cannot_change_advice
from app.services.assessments import AssessmentState
from app.web.errors import PageNotFound
from app.web.presenters import urls
from app.web.presenters.advice import advice_context
from app.web.presenters.questionnaire import (
    Progress,
    answer_label,
    form_error,
    form_value,
    form_values,
)

# Seconds a person takes per question, read and answered: the start page's estimate.
SECONDS_PER_QUESTION = 7
FIRST = SCREENS[0]
# Position by slug: Screen models compare field by field, which `tuple.index` would do.
_POSITION = {s.slug: i for i, s in enumerate(SCREENS)}


def screen_or_404(slug: str) -> Screen:
    """The screen with that slug, or a 404."""
    screen = MORE if slug == MORE.slug else screen_by_slug(slug)
    if screen is None:
        raise PageNotFound("screen", f"there is no screen {slug!r}")
    return screen


@dataclass(frozen=True)
class Shown:
    """A question as one screen shows it; `pending` when it hangs on an answer above it."""

    question: Question
    pending: str | None = None


# The last screen of a path: the questions later answers opened on screens already passed.
MORE = Screen(slug="more", title="A few more questions", questions=())


def shown(screen: Screen, answers: Mapping[str, Any]) -> list[Shown]:
    """The questions a screen asks, given these answers (see `_plan`; MORE asks the
    questions still open anywhere)."""
    if screen is MORE:
        return [Shown(q) for q in open_questions(answers)]
    return list(_plan(_key(answers))[_POSITION[screen.slug]])


def _key(answers: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Answers as a hashable key (lists from JSON become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in answers.items()))


@lru_cache(maxsize=256)
def _plan(key: tuple[tuple[str, Any], ...]) -> tuple[tuple[Shown, ...], ...]:
    """What every screen asks, given these answers, in one walk of the bank (a request asks
    for several screens: the progress counts them, the post looks ahead).

    A question whose condition reads an unanswered question of the same screen is shown as
    pending with the condition in words (without JavaScript nothing re-renders it; with htmx
    the screen re-renders on each change and it appears or goes). After the first screen, an
    unanswered question that no answer could change the advice with is skipped.
    """
    answers = dict(key)
    visible, counted = walk(answers)
    visible_ids = {q.id for q in visible}
    skip = cannot_change_advice(Profile.model_validate(counted), visible_ids - answers.keys())
    return tuple(
        tuple(_on_screen(screen, answers, counted, visible_ids, skip)) for screen in SCREENS
    )


def _on_screen(
    screen: Screen,
    answers: Mapping[str, Any],
    counted: Mapping[str, Any],
    visible_ids: set[str],
    skip: frozenset[str],
) -> list[Shown]:
    """What one section's screen asks (see `_plan`)."""
    on_screen = {q.id for q in screen.questions}
    out: list[Shown] = []
    for q in screen.questions:
        if q.id in visible_ids:
            out.append(Shown(q))
            continue
        waits = [c for c in q.show_if if c.field in on_screen and c.field not in answers]
        if waits and all(c.test(counted.get(c.field)) for c in q.show_if if c not in waits):
            words = "; ".join(f"{phrase} to “{asked.title}”" for asked, phrase in only_if(q))
            out.append(Shown(q, pending=f"Answer {words}."))
    if screen is FIRST:
        return out
    # A pending question waits on an answer above it: the live re-render decides it then.
    kept = [s for s in out if s.pending or s.question.id not in skip]
    asking = {s.question.id for s in kept}
    # A pending question whose question above was skipped waits for nothing: drop it too.
    return [
        s
        for s in kept
        if not s.pending or all(c.field in asking or c.field in answers for c in s.question.show_if)
    ]


def open_questions(answers: Mapping[str, Any]) -> list[Question]:
    """The questions the screens ask that are still unanswered, in asking order."""
    return [
        s.question
        for screen_shown in _plan(_key(answers))
        for s in screen_shown
        if not s.pending and s.question.id not in answers
    ]


def screens_with_questions(answers: Mapping[str, Any]) -> list[Screen]:
    """The screens this path takes: those with at least one question to show."""
    return [screen for screen, on in zip(SCREENS, _plan(_key(answers)), strict=True) if on]


def first_open(answers: Mapping[str, Any], after: Screen | None = None) -> Screen | None:
    """The first screen (after `after`, else from the start) still asking something."""
    start = _POSITION[after.slug] + 1 if after is not None else 0
    for screen in SCREENS[start:]:
        if any(s.question.id not in answers for s in shown(screen, answers) if not s.pending):
            return screen
    return None


def resume_url(state: AssessmentState) -> str:
    """The first screen still asking something, else the review page."""
    screen = first_open(state.answers)
    a = state.assessment
    return urls.screen(a.id, screen.slug) if screen else urls.review(a.id)


def url_after(
    answers: Mapping[str, Any], assessment_id: str, screen: Screen, *, returning: bool
) -> str:
    """Where a screen's post leads.

    Onward: the next screen of the path; after the last, one more screen with any questions
    later answers opened on screens already passed; then the review. From the review: the
    questions the change opened (on their own screen when they share one, else on the
    "more" screen), then the review again.
    """
    opened = open_questions(answers)
    target: Screen | None = None
    if not returning and screen is not MORE:
        path = screens_with_questions(answers)
        later = [s for s in path if _POSITION[s.slug] > _POSITION[screen.slug]]
        target = later[0] if later else None
    if target is None and opened:
        sections = {SCREEN_OF[q.id].slug for q in opened}
        one = SCREENS[_POSITION[sections.pop()]] if len(sections) == 1 else None
        target = one if returning and one is not None else MORE
        if target is screen and screen is not MORE:
            target = MORE  # the same screen again would look like a failed post
    if target is None:
        return urls.review(assessment_id)
    return urls.screen(assessment_id, target.slug, returning=returning)


Form = Mapping[str, list[str]]


def read_screen(
    screen: Screen, answers: Mapping[str, Any], form: Form
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse a screen's form: (answers to store, errors by question id).

    A question that the posted answers take off the path is neither required nor stored;
    every other shown question needs an answer ("Not sure" counts).
    """
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    on_form = shown(screen, answers)
    for s in on_form:
        q = s.question
        values, typed, unit = _inputs(form, q)
        if not values and not typed:
            continue
        try:
            parsed[q.id] = _parsed(q.id, values, typed, unit)
        except AnswerError as exc:
            errors[q.id] = form_error(q, values, exc, typed=typed)
    after = {**answers, **parsed}
    # Required: what the form showed and the posted answers keep on the path. A question they
    # open that the form did not show (no JavaScript) is asked on a following screen.
    was_shown = {s.question.id for s in on_form}
    if screen is MORE:
        on_path = asked(after) & was_shown
    else:
        on_path = {s.question.id for s in shown(screen, after) if not s.pending} & was_shown
    parsed = {k: v for k, v in parsed.items() if k in on_path}
    errors = {k: v for k, v in errors.items() if k in on_path}
    for qid in on_path:
        if qid not in parsed and qid not in errors and qid not in answers:
            errors[qid] = form_error(BANK.get(qid), [])
    return parsed, errors


def preview_answers(screen: Screen, answers: Mapping[str, Any], form: Form) -> dict[str, Any]:
    """The saved answers with whatever the form holds that parses (nothing is stored)."""
    merged = dict(answers)
    for s in shown(screen, answers):
        values, typed, unit = _inputs(form, s.question)
        if not values and not typed:
            continue
        try:
            merged[s.question.id] = _parsed(s.question.id, values, typed, unit)
        except AnswerError:
            continue  # the post will say what is wrong; a preview shows what parses
    return merged


# A form value longer than this is parsed, and its view built, every time: the size of those
# caches must not depend on what strangers type.
KEPT_TEXT_MAX = 64


def _parsed(question_id: str, values: list[str], typed: str | None, unit: str | None) -> Any:
    """`parse_form_answer`, kept for short inputs (`_parse`); AnswerError as it raises it."""
    if all(len(text or "") <= KEPT_TEXT_MAX for text in (*values, typed, unit)):
        return _parse(question_id, tuple(values), typed, unit)
    return parse_form_answer(question_id, values, typed=typed, unit=unit)


@lru_cache(maxsize=4096)
def _parse(question_id: str, values: tuple[str, ...], typed: str | None, unit: str | None) -> Any:
    """A form answer parsed: a screen's post and every live re-render parse each of its
    questions, mostly to the same answers. Refusals are not kept (an exception is not a
    result); answers are immutable (multi answers are tuples), so one may be shared."""
    return parse_form_answer(question_id, list(values), typed=typed, unit=unit)


def _inputs(form: Form, q: Question) -> tuple[list[str], str | None, str | None]:
    """One question's values, typed number and unit in a screen's form."""
    values = [v for v in form.get(q.id, []) if v.strip()]
    typed = next(iter(form.get(f"{q.id}.exact", [])), None)
    unit = next(iter(form.get(f"{q.id}.unit", [])), None)
    return values, (typed if typed and typed.strip() else None), unit


def screen_context(
    state: AssessmentState,
    screen: Screen,
    *,
    answers: Mapping[str, Any] | None = None,
    form: Form | None = None,
    errors: Mapping[str, str] | None = None,
    returning: bool = False,
    changed: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Context of one screen: its questions with their answers, progress, the advice so far.

    `answers`: what the screen shows (the saved answers, or a preview of the form's);
    `form`: the posted form, re-shown as typed after a 422.
    """
    a = state.assessment
    current = dict(state.answers if answers is None else answers)
    key = _key(current)  # once: the plan, the questions shown and the advice all use it
    plan = _plan(key)
    path = [s for s, on in zip(SCREENS, plan, strict=True) if on]
    if screen is MORE:
        path = [*path, MORE]
    elif all(s is not screen for s in path):
        path = sorted([*path, screen], key=lambda s: _POSITION[s.slug])
    position = next(i for i, s in enumerate(path) if s is screen) + 1
    earlier = path[position - 2] if position > 1 else None
    on_screen = shown(screen, current) if screen is MORE else list(plan[_POSITION[screen.slug]])
    if screen is MORE and answers is not None:
        # The "more" screen lists open questions; one answered in the form stays on it.
        ids = {q.id for q in open_questions(state.answers)} | {s.question.id for s in on_screen}
        on_screen = [Shown(q) for q in BANK.questions if q.id in ids]
    questions = [
        _question_view(s, current, form, (errors or {}).get(s.question.id)) for s in on_screen
    ]
    return {
        "assessment": a,
        "screen": screen,
        "questions": questions,
        "errors": errors or {},
        "first_screen": screen is FIRST,
        "title_value": a.title or "",
        "returning": returning,
        "progress": Progress(position, len(path)),
        "progress_label": f"Screen {position} of {len(path)}",
        "back_url": urls.screen(a.id, earlier.slug) if earlier else urls.home(),
        "action": urls.screen(a.id, screen.slug, returning=returning),
        "live_url": urls.screen_live(a.id, screen.slug),
        "review_url": urls.review(a.id),
        "resume_url": urls.assessment(a.id),
        "not_sure_value": NOT_SURE,
        "accepted": ACCEPTED,
        "advice": _advice(key, changed),
        "ruleset": BANK.version,
    }


@dataclass(frozen=True)
class QuestionView:
    """One question's inputs as a screen renders them; hashable, so its HTML can be cached
    by it (the question itself is the bank's, fixed by the id, and left out of the key)."""

    id: str
    question: Question = field(compare=False)
    pending: str | None
    options: tuple[tuple[str, str], ...]
    chosen: tuple[str, ...]
    exact: str
    typing: bool
    unit: str | None
    error: str | None
    answered: bool
    answer: str | None


@lru_cache(maxsize=512)
def _advice(key: tuple[tuple[str, Any], ...], changed: tuple[str, ...]) -> Mapping[str, Any]:
    """The advice panel for these answers (up to two engine runs): a page, its live
    re-renders and the page after the post ask for the same answers again and again. Every
    caller gets the one cached panel, so it is read-only (its values are too)."""
    panel = advice_context(dict(key), changed)
    return MappingProxyType({**panel, "plan": tuple(panel["plan"])})


def _question_view(
    s: Shown, answers: Mapping[str, Any], form: Form | None, error: str | None
) -> QuestionView:
    """One question's inputs as the screen renders them (see `_view`)."""
    q = s.question
    answered = q.id in answers
    value = _hashable(answers[q.id]) if answered else None
    inputs = None
    keep = error is None  # an error message may quote what was typed
    if form is not None:
        chosen, typed, unit = _inputs(form, q)
        # "Another number" posts an empty value: chosen before its field is filled in, it
        # must stay chosen when the live re-render replaces the question.
        typing = "" in (v.strip() for v in form.get(q.id, []))
        inputs = (tuple(chosen), typed, unit, typing)
        keep = keep and all(len(text or "") <= KEPT_TEXT_MAX for text in (*chosen, typed, unit))
    build = _view if keep else _view.__wrapped__
    return build(q.id, s.pending, answered, value, inputs, error)


def _hashable(value: Any) -> Any:
    """An answer value as a cache key part (lists from JSON become tuples)."""
    return tuple(value) if isinstance(value, list) else value


@lru_cache(maxsize=4096, typed=True)
def _view(
    question_id: str,
    pending: str | None,
    answered: bool,
    value: Any,
    inputs: tuple[tuple[str, ...], str | None, str | None, bool] | None,
    error: str | None,
) -> QuestionView:
    """The view of one question: it depends on nothing but these arguments (the form's
    `inputs` for it, else the saved `value`), so it is kept by them. A screen builds one per
    question on every page and live re-render, and most recur."""
    q = BANK.get(question_id)
    if inputs is not None:
        chosen, typed, unit, typing = inputs
        exact = typed or ""
    else:
        typing = False
        chosen = tuple(form_values(value)) if answered else ()
        listed = {form_value(o.value) for o in q.options}
        exact = next((c for c in chosen if c not in listed and c != NOT_SURE), "")
        unit = None
    return QuestionView(
        id=q.id,
        question=q,
        pending=pending,
        options=tuple((form_value(o.value), o.label) for o in q.form_options(chosen)),
        chosen=chosen,
        exact=exact,
        typing=typing,
        unit=unit or (q.units[0].id if q.units else None),
        error=error,
        answered=answered,
        answer=answer_label(q, value) if answered else None,
    )


def asked(answers: Mapping[str, Any]) -> set[str]:
    """Every question the screens ask with these answers (skipped ones left out)."""
    return {s.question.id for on in _plan(_key(answers)) for s in on if not s.pending}


def estimate() -> tuple[int, int]:
    """(minutes, screens) for a new assessment: the questions and screens asked with no
    answers yet, at SECONDS_PER_QUESTION each, rounded to whole minutes (at least one)."""
    path = screens_with_questions({})
    questions = sum(len(shown(s, {})) for s in path)
    return max(1, round(questions * SECONDS_PER_QUESTION / 60)), len(path)
