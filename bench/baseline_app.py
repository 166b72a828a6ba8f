"""The bare baselines the web benchmark compares against: a Jinja page and a SQLite insert.

The page renders the app's own step template with a fixed context, so the comparison
isolates what the app adds on top of FastAPI and Jinja (storage, the question bank, CSRF,
middleware). Both endpoints are `async def`, like the app's two hot paths.
"""

from __future__ import annotations

import os
import sqlite3
from types import SimpleNamespace

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.decision.bank import BANK, NOT_SURE
from app.settings import PROJECT_ROOT

QUESTION = BANK.questions[0]
CONTEXT = {
    "csrf_field": "csrf_token",
    "csrf_token": "0" * 64,
    "oob": False,
    "assessment": SimpleNamespace(id="A" * 27),
    "question": QUESTION,
    "chosen": [],
    "exact": "",
    "options": [(str(o.value), o.label) for o in QUESTION.options],
    "not_sure_value": NOT_SURE,
    "answered": False,
    "error": None,
    "returning": False,
    "progress": SimpleNamespace(position=1, total=20),
    "back_url": "/",
    "action": "/assessments/x/steps/gap",
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
    page = env.get_template("step.html")
    connection = sqlite3.connect(os.environ.get("BASELINE_DB", "baseline.db"), isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, question TEXT, value TEXT)"
    )

    @app.get("/page", response_class=HTMLResponse)
    async def render_page() -> str:
        return page.render(CONTEXT)

    @app.post("/insert")
    async def insert(value: str = Form()) -> RedirectResponse:
        connection.execute("INSERT INTO answers (question, value) VALUES (?, ?)", ("gap", value))
        return RedirectResponse("/page", status_code=303)

    return app
