"""The app's exception handlers: each refusal in the error body for API clients, and as a
page for browsers, with the status that says what went wrong."""

from __future__ import annotations

from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from app.decision.bank import BANK, AnswerError
from app.decision.errors import describe_profile_errors
from app.decision.profile import Profile
from app.jobs.runner import RunnerError
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
from app.web.csrf import CsrfError
from app.web.errors import FieldRefused, PageNotFound, describe_errors, error_body, errors_body
from app.web.html.sharing import SHARED_HEADERS
from app.web.middleware.load_shedding import RETRY_AFTER_S
from app.web.rendering import Pages


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AnswerError, _answer_error)
    app.add_exception_handler(FieldRefused, _field_refused)
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


async def _validation_error(request: Request, exc: Exception) -> Response:
    """422 naming each bad field and the allowed values: in the error body for API clients,
    as a page for a browser's form (a JSON body there would leave a user without JavaScript
    looking at raw JSON)."""
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
    body = errors_body(detail)
    if not _wants_json(request):
        message = "; ".join(_in_words(item) for item in body["detail"])
        return _error_page(request, 422, "Check what you entered", message)
    return JSONResponse(body, status_code=422)


async def _field_refused(request: Request, exc: Exception) -> Response:
    """422 for a form field a page route refused; nothing was stored."""
    assert isinstance(exc, FieldRefused)
    body = error_body(exc.field, str(exc), kind=exc.kind, allowed=exc.allowed)
    if not _wants_json(request):
        message = "; ".join(_in_words(item) for item in body["detail"])
        return _error_page(request, 422, "Check what you entered", message)
    return JSONResponse(body, status_code=422)


def _in_words(item: dict[str, Any]) -> str:
    """One refused field as a sentence: its name, what is wrong, and what it takes."""
    words = f"{item['field']}: {item['message']}"
    if item.get("allowed"):
        words += f" (allowed: {', '.join(str(value) for value in item['allowed'])})"
    return words


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
        response.headers.update(SHARED_HEADERS)
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


async def too_large(request: Request, limit: int) -> Response:
    """413: the body is over the limit; nothing was read into the app or stored."""
    message = f"the request body is over the {limit:,}-byte limit; nothing was saved"
    if _wants_json(request):
        return JSONResponse(error_body("body", message, kind="too_large"), status_code=413)
    return _error_page(request, 413, "Too large", message)


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
