"""The bare floor the web benchmark compares against: the least a step page and an answer can do.

Bare `async` FastAPI handlers, no middleware, one shared sqlite3 connection, tables shaped like
the app's (same columns, indexes and constraints, same pragmas). The step page reads the
assessment by primary key and its current answers through the partial index, signs the form
token from the cookie nonce (HMAC-SHA256) and renders the app's own step template with a fixed
context, so it sends a page of the same size and shape. The answer post inserts one row and
answers 303. What the app adds on top (its storage layer, the question bank, the CSRF check,
middleware) is what the benchmark's ratios measure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.routing import Route

from app.decision.bank import BANK, NOT_SURE
from app.settings import PROJECT_ROOT

# As long as the app's ids (`secrets.token_urlsafe(20)`).
ASSESSMENT_ID = "A" * 27
CSRF_COOKIE = "advisor_csrf"
SECRET_KEY = b"baseline-secret-key"
STEP_PATH = "/assessments/{assessment_id}/steps/{question_id}"
# The step template may move into a folder of its own; whichever exists is the one to render.
STEP_TEMPLATES = ("questionnaire/step.html", "step.html")
QUESTION = BANK.questions[0]
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS assessments (
        id VARCHAR(64) NOT NULL PRIMARY KEY,
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL,
        ruleset VARCHAR(32) NOT NULL,
        status VARCHAR(16) NOT NULL CHECK (status IN ('in_progress', 'completed')),
        title VARCHAR(200))""",
    """CREATE TABLE IF NOT EXISTS answers (
        id INTEGER NOT NULL PRIMARY KEY,
        assessment_id VARCHAR(64) NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
        question_id VARCHAR(64) NOT NULL,
        value JSON,
        is_current BOOLEAN NOT NULL,
        created_at DATETIME NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ix_answers_assessment_question"
    " ON answers (assessment_id, question_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS uq_answers_current"
    " ON answers (assessment_id, question_id) WHERE is_current = 1",
)
READ_ASSESSMENT = (
    "SELECT id, title, status, ruleset, created_at, updated_at FROM assessments WHERE id = ?"
)
READ_CURRENT_ANSWERS = (
    "SELECT question_id, value FROM answers WHERE assessment_id = ? AND is_current = 1 ORDER BY id"
)
# Stored as a past revision: the current set, and so the page's read, stays one row however
# many answers a benchmark posts.
INSERT_ANSWER = (
    "INSERT INTO answers (assessment_id, question_id, value, is_current, created_at)"
    " VALUES (?, ?, ?, 0, ?)"
)


def _connect(path: str) -> sqlite3.Connection:
    """The one connection, tuned as the app tunes its own, holding one assessment to show."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    for statement in SCHEMA:
        connection.execute(statement)
    now = _now()
    connection.execute(
        "INSERT OR IGNORE INTO assessments VALUES (?, ?, ?, ?, 'in_progress', NULL)",
        (ASSESSMENT_ID, now, now, BANK.version),
    )
    connection.execute(
        "INSERT OR IGNORE INTO answers (assessment_id, question_id, value, is_current, created_at)"
        " VALUES (?, ?, ?, 1, ?)",
        (ASSESSMENT_ID, QUESTION.id, json.dumps("knowledge"), now),
    )
    return connection


def _now() -> str:
    """A timestamp as SQLAlchemy stores a DateTime in SQLite."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _context(assessment_id: str, answers: dict[str, Any], csrf_token: str) -> dict[str, Any]:
    """The step template's context: fixed, but for what the request read and signed."""
    answer = answers.get(QUESTION.id)
    return {
        "csrf_field": "csrf_token",
        "csrf_token": csrf_token,
        "oob": False,
        "assessment": SimpleNamespace(id=assessment_id),
        "question": QUESTION,
        "chosen": [] if answer is None else [str(answer)],
        "exact": "",
        "options": [(str(o.value), o.label) for o in QUESTION.options],
        "not_sure_value": NOT_SURE,
        "answered": answer is not None,
        "error": None,
        "returning": False,
        "progress": SimpleNamespace(position=1, total=len(BANK.questions)),
        "back_url": "/",
        "action": STEP_PATH.format(assessment_id=assessment_id, question_id=QUESTION.id),
        # The template's later versions take these two links ready-made.
        "review_url": f"/assessments/{assessment_id}/review",
        "resume_url": f"/assessments/{assessment_id}",
        # The site header's links, as an anonymous visitor sees them.
        "nav": {
            "signed_in": False,
            "mine": "/my/assessments",
            "teams": "/teams",
            "signin": "/signin",
            "signup": "/signup",
            "signout": "/signout",
        },
        "ruleset": BANK.version,
    }


def create_baseline_app() -> FastAPI:
    """A FastAPI app doing the least work a step page and an answer post could do."""
    app = FastAPI()
    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    page = env.select_template(STEP_TEMPLATES)
    connection = _connect(os.environ.get("BASELINE_DB", "baseline.db"))

    async def step(request: Request) -> Response:
        assessment_id = request.path_params["assessment_id"]
        row = connection.execute(READ_ASSESSMENT, (assessment_id,)).fetchone()
        if row is None:
            return Response(status_code=404)
        answers = {
            question: json.loads(value)
            for question, value in connection.execute(READ_CURRENT_ANSWERS, (assessment_id,))
        }
        nonce = request.cookies.get(CSRF_COOKIE)
        new_nonce = None if nonce else secrets.token_urlsafe(32)
        token = hmac.digest(SECRET_KEY, (nonce or new_nonce or "").encode(), hashlib.sha256)
        response = HTMLResponse(page.render(_context(row[0], answers, token.hex())))
        if new_nonce:
            response.set_cookie(CSRF_COOKIE, new_nonce, httponly=True, samesite="lax")
        return response

    async def answer(request: Request) -> Response:
        assessment_id = request.path_params["assessment_id"]
        question_id = request.path_params["question_id"]
        # Parsed by the standard library, as the app parses its urlencoded posts.
        value = parse_qs((await request.body()).decode()).get("value", [""])[0]
        connection.execute(INSERT_ANSWER, (assessment_id, question_id, json.dumps(value), _now()))
        return RedirectResponse(
            STEP_PATH.format(assessment_id=assessment_id, question_id=question_id),
            status_code=303,
        )

    # Plain routes, as the app mounts its own two: FastAPI's parameter and dependency machinery
    # costs more per request than the reads, the token and the insert together.
    app.router.routes.extend(
        (Route(STEP_PATH, step, methods=["GET"]), Route(STEP_PATH, answer, methods=["POST"]))
    )
    return app
