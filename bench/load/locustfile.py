"""Locust users walking whole journeys through the pages, as a browser would, without think time.

One journey: the start page, a new assessment, every step of the questionnaire (the first
option of each), the review, the result, a share link and its page, and a recipe page. Every
answer the server acknowledged with a 303 goes into a ledger (LOAD_LEDGER, JSON lines) that
`bench/load_bench.py` checks against the database afterwards.

LOAD_HOSTS (comma-separated base URLs) spreads the requests round-robin over several app
instances: one user's cookies, edit key and CSRF token must work on any of them.
"""

from __future__ import annotations

import itertools
import json
import os
from html.parser import HTMLParser
from typing import Any

from locust import HttpUser, events, task
from locust.env import Environment

HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]
_next_host = itertools.cycle(HOSTS or [""])
LEDGER: list[dict[str, Any]] = []
MAX_STEPS = 60  # a walk longer than the questionnaire is a loop: stop it


class _Inputs(HTMLParser):
    """The (name, value) of each <input> and the hrefs of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[tuple[str, str]] = []
        self.links: list[str] = []  # hrefs, and read-only fields holding a link to copy

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self.inputs.append((found["name"] or "", found.get("value") or ""))
        elif tag == "input" and "readonly" in found:
            self.links.append(found.get("value") or "")
        elif tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")


def _parse(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


def _first(inputs: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in inputs if key == name), None)


def _what(response: Any) -> str:
    """A failed request in a line: its status and body, or why there was none (status 0)."""
    if response.status_code == 0:
        return f"no answer: {response.error!r}"[:300]
    return f"{response.status_code} {response.text[:200]}"


class Journey(HttpUser):
    """A visitor who answers the whole questionnaire and looks at what it gives."""

    wait_time = staticmethod(lambda: 0)  # think-time-free: as fast as the server answers

    def _url(self, path: str) -> str:
        """The path on the next instance (round-robin), or on --host when there is one."""
        return next(_next_host) + path

    def _get(self, path: str, name: str) -> Any:
        with self.client.get(
            self._url(path), name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(_what(response))
            return response

    def _post(self, path: str, data: dict[str, str], name: str) -> Any:
        with self.client.post(
            self._url(path), data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 303:
                response.failure(_what(response))
            return response

    @task
    def journey(self) -> None:
        """One whole journey; the ledger records every acknowledged answer."""
        start = self._get("/", "GET /")
        if start.status_code != 200:
            return
        token = _first(_parse(start.text).inputs, "csrf_token") or ""
        created = self._post("/assessments", {"csrf_token": token}, "POST /assessments")
        if created.status_code != 303:
            return
        assessment_id = created.headers["location"].split("/")[2]
        entry: dict[str, Any] = {"assessment": assessment_id, "answers": 0, "questions": []}
        LEDGER.append(entry)
        location = f"/assessments/{assessment_id}/steps/gap"
        for _ in range(MAX_STEPS):
            if "/steps/" not in location:
                break
            page = self._get(location, "GET step")
            if page.status_code != 200:
                return
            inputs = _parse(page.text).inputs
            token, value = _first(inputs, "csrf_token"), _first(inputs, "value")
            if token is None or value is None:
                page.failure(f"no form on {location}")
                return
            posted = self._post(location, {"csrf_token": token, "value": value}, "POST step")
            if posted.status_code != 303:
                return
            entry["answers"] += 1
            entry["questions"].append(location.rsplit("/", 1)[-1])
            location = posted.headers["location"]
        review = self._get(f"/assessments/{assessment_id}/review", "GET review")
        token = _first(_parse(review.text).inputs, "csrf_token") or ""
        done = self._post(
            f"/assessments/{assessment_id}/review", {"csrf_token": token}, "POST review"
        )
        if done.status_code != 303:
            return
        result = self._get(f"/assessments/{assessment_id}/result", "GET result")
        token = _first(_parse(result.text).inputs, "csrf_token") or ""
        shared = self._post(
            f"/assessments/{assessment_id}/shares",
            {"csrf_token": token, "expires_in_days": "30"},
            "POST share",
        )
        if shared.status_code == 303:
            listed = self._get(f"/assessments/{assessment_id}/result", "GET result")
            links = [h for h in _parse(listed.text).links if "/s/" in h]
            if links:
                self._get("/s/" + links[0].split("/s/", 1)[1], "GET share link")
            else:
                events.request.fire(
                    request_type="CHECK",
                    name="share link shown",
                    response_time=0,
                    response_length=0,
                    exception=AssertionError("no share link on the result page"),
                )
        self._get("/recipes/sft-lora", "GET recipe")


@events.quitting.add_listener
def _write_ledger(environment: Environment, **_kwargs: Any) -> None:
    """The acknowledged answers, one assessment a line, for the zero-loss check."""
    path = os.environ.get("LOAD_LEDGER")
    if path:
        with open(path, "w", encoding="utf-8") as ledger:
            ledger.writelines(json.dumps(entry) + "\n" for entry in LEDGER)
