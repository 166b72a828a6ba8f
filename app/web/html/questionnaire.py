"""The questionnaire's pages: start, resume, one URL per step, review. Forms post, redirect, get."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile
from starlette.routing import Route

from app.decision.bank import BANK, NOT_SURE, AnswerError, parse_form_answer
from app.services import assessments, ownership
from app.services.access import Caller
from app.storage import LeanTransaction
from app.web.credentials import caller, hold_key, offering
from app.web.csrf import check_csrf
from app.web.deps import in_lean_transaction, transaction
from app.web.presenters import how, questionnaire, screens, urls
from app.web.rendering import renderer

router = APIRouter(include_in_schema=False)

RESUME_COOKIE = "advisor_resume"
STEP_TEMPLATE = "questionnaire/step.html"
CsrfToken = Annotated[str | None, Form(alias="csrf_token")]


def _see_other(url: str) -> RedirectResponse:
    """Post/redirect/get."""
    return RedirectResponse(url, status_code=303)


def _remember(request: Request, response: Response, assessment_id: str) -> Response:
    """Set the resume cookie so the start page can bring the user back."""
    if request.cookies.get(RESUME_COOKIE) == assessment_id:
        return response
    response.set_cookie(
        RESUME_COOKIE,
        assessment_id,
        max_age=60 * 60 * 24 * 90,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    """What the advisor does, a start button, and a resume link when there is one."""
    resume = None
    resume_id = request.cookies.get(RESUME_COOKIE)
    credentials = caller(request)
    with transaction(request) as session:
        if resume_id:
            try:
                state = assessments.assessment_state(
                    session=session, caller=credentials, assessment_id=resume_id
                )
                resume = state.assessment
            except assessments.AssessmentNotFound:
                resume = None
        held = ownership.held(session=session, caller=credentials) if credentials.edit_keys else []
    context = questionnaire.index_context(resume, held=held, estimate=screens.estimate())
    return renderer(request).render(request, "questionnaire/index.html", context)


@router.get(urls.HOW_IT_DECIDES, response_class=HTMLResponse)
def how_it_decides(request: Request) -> Response:
    """The decision ladder, rung by rung, with the public sources of its rules."""
    return renderer(request).render(request, "questionnaire/how.html", how.how_context())


@router.post("/assessments")
def start(request: Request, csrf_token: CsrfToken = None) -> Response:
    """Create an assessment and its edit key (kept in this browser) and go to its first step."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        created = assessments.create_assessment(session=session)
    response = _see_other(urls.screen(created.id, screens.FIRST.slug))
    hold_key(request, response, created.id, created.edit_key)
    return _remember(request, response, created.id)


@router.get("/assessments/{assessment_id}")
def resume(assessment_id: str, request: Request, key: str | None = None) -> Response:
    """Send the user to where they left off: the next unanswered step, else the review.

    With `?key=` (the private "continue on another device" link), keep the key in this
    browser's cookies and come back to the same address without it, so the key stays out of
    the address bar, the history and any Referer.
    """
    if key is not None:
        with transaction(request) as session:
            assessments.assessment_state(
                session=session,
                caller=offering(assessment_id, key),
                assessment_id=assessment_id,
            )
        response = _see_other(urls.assessment(assessment_id))
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        hold_key(request, response, assessment_id, key)
        return _remember(request, response, assessment_id)
    with transaction(request) as session:
        state = assessments.assessment_state(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    target = screens.resume_url(state)
    return _remember(request, _see_other(target), assessment_id)


# The two hot paths are plain Starlette routes: they take nothing FastAPI would validate (the
# form is parsed by the question bank) and stay out of the OpenAPI schema; the parameter and
# dependency machinery would cost more than their few indexed statements (see `make bench`).
# Their unit of work runs in one hop to the thread pool; rendering stays on the loop.
async def step(request: Request) -> Response:
    """One question on its own page."""
    assessment_id, question_id = _step_params(request)
    state = await in_lean_transaction(request, _reader(request, assessment_id))
    question = questionnaire.question_or_404(question_id)
    if not questionnaire.applies(state, question_id):
        return _see_other(questionnaire.resume_url(state))
    returning = request.query_params.get("return") == "review"
    context = questionnaire.step_context(
        state, question, submitted=None, error=None, returning=returning
    )
    page = renderer(request).render(request, STEP_TEMPLATE, context)
    return _remember(request, page, assessment_id)


async def answer(request: Request) -> Response:
    """Store the answer and go to the next step, or re-render with the error (422)."""
    assessment_id, question_id = _step_params(request)
    form = await _form(request)
    check_csrf(request, _text(form.get("csrf_token")))
    values = [v for v in form.getlist("value") if isinstance(v, str)]
    exact = _text(form.get("exact"))
    unit = _text(form.get("unit"))
    question = questionnaire.question_or_404(question_id)
    to_review = form.get("return") == "review"
    try:
        # A typed number beside a different preset is a conflict (422), never a guess.
        value = parse_form_answer(question_id, values, typed=exact, unit=unit)
    except AnswerError as refused:
        # Nothing is stored: read without waiting for SQLite's write lock.
        state = await in_lean_transaction(request, _reader(request, assessment_id), write=False)
        message = questionnaire.form_error(question, values, refused, typed=exact)
        submitted = [*values, exact] if exact and exact.strip() else values
        context = questionnaire.step_context(
            state, question, submitted=submitted, error=message, returning=to_review, unit=unit
        )
        return renderer(request).render(request, STEP_TEMPLATE, context, status_code=422)

    credentials = caller(request)

    def store(session: LeanTransaction) -> dict[str, Any]:
        return assessments.record_answer(
            session=session,
            caller=credentials,
            assessment_id=assessment_id,
            question_id=question_id,
            value=value,
            read_back=not to_review,
        )

    answers = await in_lean_transaction(request, store)
    if to_review:
        return _see_other(urls.review(assessment_id))
    return _see_other(questionnaire.url_after(answers, assessment_id, question_id))


SCREEN_TEMPLATE = "questionnaire/screen.html"
QUESTION_TEMPLATE = "questionnaire/_question.html"


def _screen_params(request: Request) -> tuple[str, Any]:
    """The assessment id and the screen (404 for an unknown one) of a screen URL."""
    params = request.path_params
    return params["assessment_id"], screens.screen_or_404(params["slug"])


def _changed(request: Request) -> tuple[str, ...]:
    """The questions the last post changed, from `?changed=` (for the advice panel)."""
    raw = request.query_params.get("changed", "")
    return tuple(q for q in raw.split(",") if q and q in BANK_IDS)


async def screen_page(request: Request) -> Response:
    """One screen: the questions of one section that apply, and the advice so far."""
    assessment_id, screen = _screen_params(request)
    state = await in_lean_transaction(request, _reader(request, assessment_id))
    returning = request.query_params.get("return") == "review"
    context = screens.screen_context(state, screen, returning=returning, changed=_changed(request))
    page = _render_screen(request, SCREEN_TEMPLATE, context)
    return _remember(request, page, assessment_id)


async def screen_post(request: Request) -> Response:
    """Store a screen's answers and go on (see `screens.url_after`), or 422 with the errors."""
    assessment_id, screen = _screen_params(request)
    form = await _form(request)
    check_csrf(request, _text(form.get("csrf_token")))
    fields = _multi(form)
    returning = request.query_params.get("return") == "review" or form.get("return") == "review"
    credentials = caller(request)
    reader = _reader(request, assessment_id, credentials)
    state = await in_lean_transaction(request, reader, write=False)
    parsed, errors = screens.read_screen(screen, state.answers, fields)
    title = _text(form.get("title"))
    if title is not None and len(title.strip()) > assessments.TITLE_MAX:
        errors["title"] = f"A title has at most {assessments.TITLE_MAX} characters."
    if errors:
        preview = screens.preview_answers(screen, state.answers, fields)
        context = screens.screen_context(
            state, screen, answers=preview, form=fields, errors=errors, returning=returning
        )
        return _render_screen(request, SCREEN_TEMPLATE, context, status_code=422)
    changed = _changed_answers(state.answers, parsed)

    def store(session: LeanTransaction) -> None:
        assessments.record_answers(
            session=session, caller=credentials, assessment_id=assessment_id, values=parsed
        )

    # Nothing to store when every answer is as read (Next on an unchanged screen): the read
    # checked the same access the store would, and the store would add no revision.
    if changed:
        await in_lean_transaction(request, store)
    if title is not None and (title.strip() or None) != state.assessment.title:
        await run_in_threadpool(_rename, request, assessment_id, title)
    answers = {**state.answers, **parsed}
    target = screens.url_after(answers, assessment_id, screen, returning=returning)
    if changed and not target.startswith(urls.review(assessment_id)):
        target = _with_changed(target, changed)
    return _see_other(target)


def _changed_answers(stored: Mapping[str, Any], given: Mapping[str, Any]) -> tuple[str, ...]:
    """The questions whose given answer is not the stored one (a choice list read back from
    JSON is a list, a parsed one a tuple: the same answer)."""
    return tuple(
        q for q, v in given.items() if q not in stored or not assessments.same_answer(stored[q], v)
    )


async def screen_live(request: Request) -> Response:
    """Re-render a screen's questions and the advice panel for the form as it stands (htmx,
    on every change). Nothing is stored: the post does that."""
    assessment_id, screen = _screen_params(request)
    form = await _form(request)
    check_csrf(request, _text(form.get("csrf_token")))
    fields = _multi(form)
    state = await in_lean_transaction(request, _reader(request, assessment_id), write=False)
    preview = screens.preview_answers(screen, state.answers, fields)
    changed = _changed_answers(state.answers, preview)
    last = _text(form.get("_changed"))
    if last and last in changed:
        changed = (last,)
    context = screens.screen_context(
        state,
        screen,
        answers=preview,
        form=fields,
        changed=changed,
        returning=form.get("return") == "review",
    )
    return _render_screen(request, "questionnaire/_screen_live.html", context)


def _render_screen(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A screen page or its live fragment, its questions' fieldsets taken from the cache."""
    pages = renderer(request)
    fieldsets = "".join(
        _fieldset(pages.env, view) if _cacheable(view) else _render_fieldset(pages.env, view)
        for view in context["questions"]
    )
    context["questions_html"] = Markup(fieldsets)  # rendered, so escaped, by `_fieldset`
    return pages.render(request, template, context, status_code=status_code)


# A typed value longer than this is rendered every time: the cache's size must not depend on
# what strangers type (4,096 entries of a body-limit-sized value each would be gigabytes).
CACHED_TEXT_MAX = 64


def _cacheable(view: screens.QuestionView) -> bool:
    """Whether a fieldset may be kept: only views whose typed text is short."""
    return len(view.exact) <= CACHED_TEXT_MAX and all(
        len(value) <= CACHED_TEXT_MAX for value in view.chosen
    )


@lru_cache(maxsize=4096)
def _fieldset(env: Environment, view: screens.QuestionView) -> str:
    """One question's fieldset. Rendering the screen's questions was half its time, and most
    recur (same question, same answer), so each is rendered once per view: the template sees
    nothing but the view and NOT_SURE (StrictUndefined refuses anything else), so the view is
    the whole key."""
    return _render_fieldset(env, view)


def _render_fieldset(env: Environment, view: screens.QuestionView) -> str:
    """One question's fieldset, rendered."""
    template = env.get_template(QUESTION_TEMPLATE)
    return template.render(qv=view, not_sure_value=NOT_SURE) + "\n"  # Jinja drops the file's


def _rename(request: Request, assessment_id: str, title: str) -> None:
    """Set the assessment's title (the first screen's field), in its own transaction."""
    with transaction(request) as session:
        assessments.rename_assessment(
            session=session, caller=caller(request), assessment_id=assessment_id, title=title
        )


def _multi(form: FormData) -> dict[str, list[str]]:
    """A form as lists of text values per name."""
    out: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(name, []).append(value)
    return out


def _with_changed(url: str, changed: tuple[str, ...]) -> str:
    """A screen URL carrying the questions the last post changed."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urls.query([('changed', ','.join(changed))])}"


BANK_IDS = frozenset(q.id for q in BANK.questions)
SCREEN_PATH = "/assessments/{assessment_id}/screens/{slug}"
STEP_PATH = "/assessments/{assessment_id}/steps/{question_id}"
# Mounted on the app itself, ahead of the routers, so matching a step costs one regex.
STEP_ROUTES = (
    Route(STEP_PATH, step, methods=["GET"], include_in_schema=False),
    Route(STEP_PATH, answer, methods=["POST"], include_in_schema=False),
    Route(SCREEN_PATH, screen_page, methods=["GET"], include_in_schema=False),
    Route(SCREEN_PATH, screen_post, methods=["POST"], include_in_schema=False),
    Route(SCREEN_PATH + "/live", screen_live, methods=["POST"], include_in_schema=False),
)


def _reader(
    request: Request, assessment_id: str, credentials: Caller | None = None
) -> Callable[[LeanTransaction], assessments.AssessmentState]:
    """Read one assessment's state in a unit of work, as the request's caller."""
    credentials = credentials or caller(request)
    return lambda session: assessments.assessment_state(
        session=session, caller=credentials, assessment_id=assessment_id
    )


def _step_params(request: Request) -> tuple[str, str]:
    """The assessment and question ids in a step URL."""
    params = request.path_params
    return params["assessment_id"], params["question_id"]


@router.get("/assessments/{assessment_id}/review", response_class=HTMLResponse)
def review(assessment_id: str, request: Request) -> Response:
    """Every answer on the branch taken, each with a link to change it."""
    with transaction(request) as session:
        state = assessments.assessment_state(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    context = questionnaire.review_context(state, screens.asked(state.answers))
    return renderer(request).render(request, "questionnaire/review.html", context)


@router.post("/assessments/{assessment_id}/review")
def finish(assessment_id: str, request: Request, csrf_token: CsrfToken = None) -> Response:
    """Complete the assessment (snapshotting its recommendation) and show the result."""
    check_csrf(request, csrf_token)
    with transaction(request) as session:
        assessments.complete_assessment(
            session=session, caller=caller(request), assessment_id=assessment_id
        )
    return _see_other(urls.result(assessment_id))


async def _form(request: Request) -> FormData:
    """The posted form; a urlencoded one (what the pages send) is parsed by the standard library.

    `parse_qsl` is a third of the cost of the general multipart-capable parser on the answer
    post, the busiest write. The body size is capped by the app before it gets here.
    """
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return await request.form()
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: list[tuple[str, str | UploadFile]] = [*parse_qsl(body, keep_blank_values=True)]
    return FormData(fields)


def _text(value: object) -> str | None:
    """A form value as text, or None for missing/uploaded values."""
    return value if isinstance(value, str) else None
