"""The app factory: `create_app(settings)` wires storage, middleware and routers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from app.decision.bank import BANK, AnswerError
from app.decision.errors import describe_profile_errors
from app.decision.profile import Profile
from app.jobs.runner import RunnerError
from app.services import webhook_sender
from app.services.access import (
    Forbidden,
    JobNotFound,
    NotSignedIn,
    ShareNotFound,
    TeamNotFound,
)
from app.services.accounts import (
    AccountError,
    EmailTaken,
    NotYours,
    TooManyAttempts,
    WrongCredentials,
)
from app.services.assessments import AssessmentNotFound
from app.services.comments import CommentNotFound
from app.services.jobs import JobFolderError, JobInputError
from app.services.review import ReviewError
from app.services.teams import InviteNotFound, MemberNotFound
from app.settings import Settings
from app.storage import make_engine
from app.web import openapi
from app.web.api import accounts as accounts_api
from app.web.api import assessments as assessments_api
from app.web.api import dashboard as dashboard_api
from app.web.api import health
from app.web.api import jobs as jobs_api
from app.web.api import recipes as recipes_api
from app.web.api import review as review_api
from app.web.api import sharing as sharing_api
from app.web.api import teams as teams_api
from app.web.csrf import CsrfError
from app.web.errors import PageNotFound, describe_errors, error_body, errors_body
from app.web.html import accounts as account_pages
from app.web.html import dashboard as dashboard_pages
from app.web.html import jobs as job_pages
from app.web.html import questionnaire, results, sharing
from app.web.html import recipes as recipe_pages
from app.web.html import review as review_pages
from app.web.html import teams as team_pages
from app.web.middleware.compression import Gzip
from app.web.middleware.content_type import JsonBodiesOnly
from app.web.middleware.load_shedding import RETRY_AFTER_S, LoadShedding
from app.web.middleware.nul_guard import RefuseNul
from app.web.middleware.security import SecurityHeaders
from app.web.rendering import Pages


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Compile the templates, then move everything loaded out of the garbage collector's sight.

    The rules, the question bank and the templates live as long as the process; scanning them
    in every full collection shows up as long pauses in the tail latency under load.
    """
    settings: Settings = app.state.settings
    # Sync endpoints and every database call share this pool of threads; the connection pool
    # is sized above it, so a thread never waits for a connection.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.max_threads
    app.state.health_threads = anyio.CapacityLimiter(health.HEALTH_THREADS)
    app.state.pages.preload()
    gc.collect()
    gc.freeze()
    # Webhook deliveries are posted by a thread of their own, after the commit (ADR 0014).
    sender = webhook_sender.WebhookSender(
        app.state.engine, allow_private=settings.webhook_allow_private_targets
    )
    sender.start()
    yield
    sender.stop()
    app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build one app instance around its own settings and database engine."""
    settings = settings or Settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="Adaptation Advisor",
        version="0.1.0",
        summary="Which fix closes your LLM's gap: prompting, long context, RAG, "
        "fine-tuning, preference tuning or distillation.",
        max_body_size=settings.max_body_bytes,
        # Swagger UI and ReDoc load scripts from a CDN and inline: neither fits the CSP nor an
        # offline install. The schema itself is served at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.pages = Pages(settings.templates_dir)

    # The questionnaire first: routes are matched in order, and its steps are the hot path.
    app.router.routes.extend(questionnaire.STEP_ROUTES)
    app.include_router(questionnaire.router)
    app.include_router(results.router)
    # `/s/{token}.json` ahead of the page at `/s/{token}`, which would match it too.
    app.include_router(sharing_api.shared_router)
    app.include_router(sharing.router)
    app.include_router(sharing_api.router)
    app.include_router(health.router)
    app.include_router(assessments_api.router)
    app.include_router(recipes_api.router)
    app.include_router(accounts_api.router)
    app.include_router(teams_api.router)
    app.include_router(jobs_api.router)
    app.include_router(review_api.router)
    app.include_router(recipe_pages.router)
    app.include_router(account_pages.router)
    app.include_router(team_pages.router)
    app.include_router(job_pages.router)
    app.include_router(review_pages.router)
    app.include_router(dashboard_api.router)
    app.include_router(dashboard_pages.router)
    settings.static_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")

    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AnswerError, _answer_error)
    app.add_exception_handler(AssessmentNotFound, _not_found)
    app.add_exception_handler(PageNotFound, _not_found)
    app.add_exception_handler(ShareNotFound, _share_not_found)
    app.add_exception_handler(JobNotFound, _job_not_found)
    app.add_exception_handler(JobInputError, _job_input_error)
    app.add_exception_handler(RunnerError, _runner_error)
    app.add_exception_handler(JobFolderError, _no_storage)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(AccountError, _account_error)
    app.add_exception_handler(NotSignedIn, _unauthorized)
    app.add_exception_handler(WrongCredentials, _unauthorized)
    app.add_exception_handler(TooManyAttempts, _too_many)
    app.add_exception_handler(TeamNotFound, _team_not_found)
    app.add_exception_handler(InviteNotFound, _team_not_found)
    app.add_exception_handler(MemberNotFound, _team_not_found)
    app.add_exception_handler(NotYours, _team_not_found)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(ReviewError, _review_error)
    app.add_exception_handler(CommentNotFound, _comment_not_found)
    app.add_exception_handler(CsrfError, _csrf_failed)
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _busy)
    app.add_exception_handler(sqlalchemy.exc.OperationalError, _busy)

    openapi.install(app)
    app.add_middleware(RefuseNul, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(JsonBodiesOnly)
    app.add_middleware(Gzip, minimum_size=500)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.add_middleware(LoadShedding, limit=settings.max_in_flight)
    return app


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field and the allowed values."""
    assert isinstance(exc, RequestValidationError)
    route = request.scope.get("route")
    model = None
    if isinstance(route, APIRoute) and route.body_field is not None:
        model = route.body_field.field_info.annotation
    errors = exc.errors()
    if model is Profile and not any(e.get("type") == "json_invalid" for e in errors):
        # The profile's own wording: allowed values from the contract, known fields listed.
        at_profile = [{**e, "loc": tuple(e.get("loc", ()))[1:]} for e in errors]
        described = describe_profile_errors(at_profile)
        detail = [{**d, "type": e.get("type", "")} for d, e in zip(described, errors, strict=True)]
    else:
        detail = describe_errors(errors, model=model if isinstance(model, type) else None)
    return JSONResponse(errors_body(detail), status_code=422)


async def _answer_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 for an answer the question does not allow; nothing was stored."""
    assert isinstance(exc, AnswerError)
    body = error_body(exc.question_id, exc.message, kind="answer_error", allowed=exc.allowed)
    return JSONResponse(body, status_code=422)


def _wants_json(request: Request) -> bool:
    """API clients (and a share link's `.json`) get JSON errors; browsers get a page."""
    path = request.url.path
    return path.startswith("/api") or (path.startswith("/s/") and path.endswith(".json"))


async def _not_found(request: Request, exc: Exception) -> Response:
    """404 for an unknown assessment, question, recipe or export."""
    field = exc.field if isinstance(exc, PageNotFound) else "assessment_id"
    if _wants_json(request):
        body = error_body(field, str(exc), kind="not_found")
        return JSONResponse(body, status_code=404)
    return _error_page(request, 404, "Not found", str(exc))


async def _share_not_found(request: Request, exc: Exception) -> Response:
    """The one 404 for a share token that is unknown, revoked or expired, and for the API's
    revocation of a link the assessment does not have."""
    response = await _not_found(request, PageNotFound("token", str(exc)))
    if not request.url.path.startswith("/api"):
        response.headers.update(sharing.SHARED_HEADERS)
    return response


async def _job_not_found(request: Request, exc: Exception) -> Response:
    """404 for a job that does not exist or that the caller may not see."""
    return await _not_found(request, PageNotFound("job_id", str(exc)))


async def _job_input_error(request: Request, exc: Exception) -> Response:
    """422 for a job refused before anything was stored, naming the field."""
    assert isinstance(exc, JobInputError)
    if not _wants_json(request):
        return _error_page(request, 422, "This job cannot run", exc.message)
    body = error_body(exc.field, exc.message, kind="value_error", allowed=exc.allowed)
    return JSONResponse(body, status_code=422)


async def _runner_error(request: Request, exc: Exception) -> Response:
    """503 when a job's runner could not do what was asked (a cancel that did not reach Ray)."""
    message = f"{exc}; nothing was changed, retry shortly"
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_json(request):
        return JSONResponse(
            error_body("runner", message, kind="runner"), status_code=503, headers=headers
        )
    response = _error_page(request, 503, "The runner did not answer", message)
    response.headers.update(headers)
    return response


async def _no_storage(request: Request, exc: Exception) -> Response:
    """507 when the data folder cannot take a job's files (full, read-only); nothing was kept."""
    assert isinstance(exc, JobFolderError)
    message = f"{exc.message}; nothing was kept"
    if _wants_json(request):
        return JSONResponse(error_body("data_dir", message, kind="storage"), status_code=507)
    return _error_page(request, 507, "No room to store this job", message)


async def _http_error(request: Request, exc: Exception) -> Response:
    """An unknown path or method: the error body for the API, the 404 page for a browser."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and not _wants_json(request):
        return _error_page(request, 404, "Not found", f"there is no page at {request.url.path}")
    if exc.status_code == 400:
        # FastAPI's own answer to a body it cannot even decode (not UTF-8): the same 422 as
        # for any other body that is not valid JSON.
        message = f"the body is not valid JSON: {exc.detail}"
        return JSONResponse(error_body("body", message, kind="json_invalid"), status_code=422)
    field, kind = _HTTP_ERRORS.get(exc.status_code, ("path", "http_error"))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        methods = _allowed_methods(request)
        headers["Allow"] = ", ".join(methods)
        body = error_body(
            field, f"{request.method} is not allowed here", kind=kind, allowed=methods
        )
    else:
        body = error_body(field, exc.detail, kind=kind)
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first
    route's, though GET and DELETE of one resource are often two routes)."""
    routes = [r for r in request.app.router.routes if isinstance(r, BaseRoute)]
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


async def _account_error(_request: Request, exc: Exception) -> JSONResponse:
    """409 for an email already taken, 422 for other refused account input."""
    assert isinstance(exc, AccountError)
    taken = isinstance(exc, EmailTaken)
    body = error_body(exc.field, str(exc), kind="conflict" if taken else "value_error")
    return JSONResponse(body, status_code=409 if taken else 422)


async def _unauthorized(request: Request, exc: Exception) -> Response:
    """401 for a route that needs an account, or a wrong email and password."""
    if not _wants_json(request):
        return _error_page(request, 401, "Sign in first", str(exc))
    body = error_body("credentials", str(exc), kind="unauthorized")
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _team_not_found(request: Request, exc: Exception) -> Response:
    """404 for a team the caller is not in, an unusable invite, or a member not in the team."""
    if isinstance(exc, TeamNotFound | NotYours):
        field = exc.field
    else:
        field = "invite_token" if isinstance(exc, InviteNotFound) else "user_id"
    return await _not_found(request, PageNotFound(field, str(exc)))


async def _forbidden(request: Request, exc: Exception) -> Response:
    """403 for a team member whose role does not allow the action."""
    if _wants_json(request):
        return JSONResponse(error_body("role", str(exc), kind="forbidden"), status_code=403)
    return _error_page(request, 403, "Not allowed", str(exc))


async def _review_error(request: Request, exc: Exception) -> Response:
    """422 (bad input) or 409 (not in this status) for a refused review action, naming the
    field; nothing was stored."""
    assert isinstance(exc, ReviewError)
    if not _wants_json(request):
        return _error_page(request, exc.status, "This cannot be done", str(exc))
    kind = "conflict" if exc.status == 409 else "value_error"
    body = error_body(exc.field, str(exc), kind=kind, allowed=exc.allowed)
    return JSONResponse(body, status_code=exc.status)


async def _comment_not_found(request: Request, exc: Exception) -> Response:
    """404 for a comment the assessment does not have."""
    return await _not_found(request, PageNotFound("comment_id", str(exc)))


async def _too_many(_request: Request, exc: Exception) -> JSONResponse:
    """429 with Retry-After once sign-ins failed too often; the password was not checked."""
    assert isinstance(exc, TooManyAttempts)
    body = error_body("credentials", str(exc), kind="rate_limited")
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(exc.retry_after_s)})


# What the routing's own errors concern: (field, type) in the error body.
_HTTP_ERRORS = {404: ("path", "not_found"), 405: ("method", "method_not_allowed")}


async def _csrf_failed(request: Request, exc: Exception) -> Response:
    """403 for a form without a valid CSRF token; nothing was changed."""
    return _error_page(request, 403, "This form has expired", str(exc))


async def _busy(request: Request, exc: Exception) -> Response:
    """503 with Retry-After when the database cannot serve in time; nothing was changed.

    A pool checkout or a SQLite lock that waited past its time-out, or a database that does
    not answer: the transaction was rolled back, and the same request may simply be retried.
    """
    message = "the database is busy or unreachable; nothing was changed, retry shortly"
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_json(request):
        body = error_body("database", message, kind="busy")
        return JSONResponse(body, status_code=503, headers=headers)
    response = _error_page(request, 503, "Busy, try again", message)
    response.headers.update(headers)
    return response


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    """A small page explaining what went wrong, with a way back."""
    pages: Pages = request.app.state.pages
    return pages.render(
        request,
        "error.html",
        {"title": title, "message": message, "ruleset": BANK.version},
        status_code=status,
    )
