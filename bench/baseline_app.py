"""The bare baselines the web benchmark compares against: a Jinja page and a SQLite insert."""

from __future__ import annotations

import os
import sqlite3
import threading

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

PAGE = Environment(autoescape=True).from_string(
    "<!doctype html><html lang=en><head><title>{{ title }}</title>"
    "<link rel=stylesheet href=/static/app.css></head><body><main><h1>{{ title }}</h1>"
    "<form method=post>{% for o in options %}<label><input type=radio name=value "
    "value='{{ o }}'>{{ o }}</label>{% endfor %}<button>Next</button></form></main></body></html>"
)
OPTIONS = ["knowledge", "behavior", "both", "unsure"]


def create_baseline_app() -> FastAPI:
    """A FastAPI app doing the least work a step page and an answer post could do."""
    app = FastAPI()
    path = os.environ.get("BASELINE_DB", "baseline.db")
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS answers (id INTEGER PRIMARY KEY, question TEXT, value TEXT)"
    )
    lock = threading.Lock()

    @app.get("/page", response_class=HTMLResponse)
    def page() -> str:
        return PAGE.render(title="Step 1 of 12: What do the failures show?", options=OPTIONS)

    @app.post("/insert")
    def insert(value: str = Form()) -> RedirectResponse:
        with lock:
            connection.execute(
                "INSERT INTO answers (question, value) VALUES (?, ?)", ("gap", value)
            )
        return RedirectResponse("/page", status_code=303)

    return app
