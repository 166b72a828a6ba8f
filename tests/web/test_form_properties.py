"""Property tests (hypothesis) on every form and query the app parses into values.

Each case posts (or asks) arbitrary text in its fields to a real app: ordinary text, NUL,
RTL overrides, 4-byte emoji, combining marks, other scripts' digits, huge and negative
numbers, overlong strings. Whatever comes in, the answer is never a 5xx; an API refusal is
the error body naming a field, and a page refusal names what is allowed. The parsers behind
the forms have their own property tests beside them (tests/decision, tests/recipes and
tests/web/test_form_parsers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.decision.bank import BANK, SCREENS
from tests.web.conftest import api_token, csrf_token, signed_in_browser

ODD = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e",
    "abc\u202edcba",
    "\u2066\u2067\u2069",
    "😀",
    "𝕏" * 40,
    "e\u0301",
    "\ufeff",
    "\u200b",
    "١٢٣",
    "٣k",
    "3k",
    "about 3,000",
    "9" * 30,
    "9" * 400,
    "9" * 5000,
    "-1",
    "0",
    "-0",
    "1e309",
    "nan",
    "inf",
    "1.5",
    "2026-02-30",
    "99999-01-01",
    "../../etc/passwd",
    "/etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "\r\n\r\n",
    "x" * 20_000,
    "true",
    "not_sure",
]
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # lone surrogates cannot be sent
    max_size=80,
)
HOSTILE = st.one_of(
    st.sampled_from(ODD),
    _TEXT,
    st.lists(st.sampled_from(ODD[:20]), min_size=2, max_size=4).map("".join),
    st.integers().map(str),
)
PASSWORD = "form property 1"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


@dataclass
class World:
    """A signed-in owner with a team, an assessment of their own and a comment on it."""

    client: TestClient
    token: str
    team: str
    assessment: str
    api: dict[str, str]


def _world(client: TestClient) -> World:
    signed_in_browser(client, "owner@example.org", PASSWORD)
    api = api_token(client, "owner@example.org", PASSWORD)
    team = client.post("/api/teams", json={"name": "Props"}, headers=api).json()["id"]
    made = client.post("/api/assessments", json={"title": "props", "team": team}, headers=api)
    assert made.status_code == 201, made.text
    token = csrf_token(client, "/account")
    return World(client, token, team, made.json()["id"], api)


# A case: method, URL (from the world), the fixed fields, the fields that get hostile text,
# and whether the fields go in the query string.
Case = tuple[str, Callable[[World], str], dict[str, str], tuple[str, ...], bool]
NUMBER_Q = next(q for q in BANK.questions if q.kind == "number")
SINGLE_Q = next(q for q in BANK.questions if q.kind == "single")
MULTI_Q = next(q for q in BANK.questions if q.kind == "multi")
YES_NO_Q = next(q for q in BANK.questions if q.kind == "yes_no")
COUNT_SCREEN = next(s for s in SCREENS if any(q.kind == "number" for q in s.questions))
CASES: dict[str, Case] = {
    "answer, count": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/steps/{NUMBER_Q.id}",
        {},
        ("value", "exact", "unit"),
        False,
    ),
    "answer, single": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/steps/{SINGLE_Q.id}",
        {},
        ("value",),
        False,
    ),
    "answer, multi": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/steps/{MULTI_Q.id}",
        {},
        ("value", "return"),
        False,
    ),
    "answer, yes/no": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/steps/{YES_NO_Q.id}",
        {},
        ("value",),
        False,
    ),
    "screen": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/screens/{COUNT_SCREEN.slug}",
        {},
        tuple(
            name for q in COUNT_SCREEN.questions for name in (q.id, f"{q.id}.exact", f"{q.id}.unit")
        ),
        False,
    ),
    "screen, live preview": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/screens/{COUNT_SCREEN.slug}/live",
        {},
        (COUNT_SCREEN.questions[0].id, f"{COUNT_SCREEN.questions[0].id}.exact", "_changed"),
        False,
    ),
    "rename": ("POST", lambda w: f"/assessments/{w.assessment}/rename", {}, ("title",), False),
    "share": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/shares",
        {},
        ("expires_in_days",),
        False,
    ),
    "comment": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/comments",
        {},
        ("body", "question", "back"),
        False,
    ),
    "milestone": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/milestones",
        {},
        ("name", "back"),
        False,
    ),
    "review request": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/approval/request",
        {},
        ("reviewers", "consulted", "informed"),
        False,
    ),
    "review decision": (
        "POST",
        lambda w: f"/assessments/{w.assessment}/approval/decision",
        {},
        ("outcome", "comment"),
        False,
    ),
    "sign-up": ("POST", lambda w: "/signup", {}, ("email", "password", "invite"), False),
    "sign-in": ("POST", lambda w: "/signin", {}, ("email", "password", "invite"), False),
    "password": ("POST", lambda w: "/account/password", {}, ("current", "new"), False),
    "token": ("POST", lambda w: "/account/tokens", {}, ("name",), False),
    "team": ("POST", lambda w: "/teams", {}, ("name",), False),
    "invite": ("POST", lambda w: f"/teams/{w.team}/invites", {}, ("role",), False),
    "review settings": (
        "POST",
        lambda w: f"/teams/{w.team}/review-settings",
        {},
        ("allow_self_approval", "assessment"),
        False,
    ),
    "webhook": ("POST", lambda w: f"/teams/{w.team}/webhook", {}, ("url", "secret"), False),
    "job": (
        "POST",
        lambda w: "/jobs",
        {"recipe": "sft-lora"},
        ("recipe", "runner", "assessment", "base_model", "dataset", "max_steps", "params_b"),
        False,
    ),
    "dataset check options": (
        "POST",
        lambda w: "/recipes/sft-lora/dataset-check",
        {},
        ("max_length", "back"),
        False,
    ),
    "recipe parameters": (
        "GET",
        lambda w: "/recipes/sft-lora",
        {},
        ("params_b", "examples", "gpu", "max_length", "epochs", "price_per_gpu_hour"),
        True,
    ),
    "dashboard filters": (
        "GET",
        lambda w: f"/teams/{w.team}/assessments",
        {},
        ("q", "status", "primary", "author", "sort", "since", "until", "page"),
        True,
    ),
    "dashboard filters, API": (
        "GET",
        lambda w: f"/api/teams/{w.team}/assessments",
        {},
        ("q", "status", "primary", "author", "sort", "since", "until", "page", "per_page"),
        True,
    ),
    "jobs filter, API": ("GET", lambda w: "/api/jobs", {}, ("status",), True),
}


# Fields an error may name besides the ones sent: a question (an answer's field is its
# question), the body as a whole, the CSRF token.
NAMED = {q.id for q in BANK.questions} | {"body", "csrf_token", "file"}


def _check(response: httpx.Response, case: str, fields: dict[str, str]) -> None:
    where = f"{case}: {fields!r:.600} -> {response.status_code} {response.text[:400]!r}"
    assert response.status_code < 500, where
    if response.status_code in (400, 422) and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        items = response.json()["detail"]
        assert items and all(item["message"] for item in items), where
        # The error names the field that was wrong (never "path" for a form's field).
        assert all(item["field"] in {*fields, *NAMED} for item in items), where
    if response.status_code == 422 and response.headers.get("content-type", "").startswith(
        "text/html"
    ):
        # A page refusal says what is wrong in words, not a bare status.
        assert len(response.text) > 200, where


@pytest.mark.parametrize("case", sorted(CASES))
def test_any_text_in_any_field_is_refused_cleanly(client: TestClient, case: str) -> None:
    world = _world(client)
    method, url, fixed, hostile, in_query = CASES[case]

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    # One or two fields at a time, the others left out: a field refused first must not hide
    # what the next field's parser would do.
    @given(st.dictionaries(st.sampled_from(hostile), HOSTILE, min_size=1, max_size=2))
    def check(values: dict[str, str]) -> None:
        fields: dict[str, Any] = {**fixed, **values}
        headers = world.api if url(world).startswith("/api") else {}
        if in_query:
            response = client.request(
                method, url(world), params=fields, headers=headers, follow_redirects=False
            )
        else:
            response = client.request(
                method,
                url(world),
                data={"csrf_token": world.token, **fields},
                headers=headers,
                follow_redirects=False,
            )
        _check(response, case, fields)

    # Every odd value in every field, one field at a time, then hypothesis's own mixes.
    for name in hostile:
        for value in ODD:
            check.hypothesis.inner_test({name: value})  # type: ignore[attr-defined]
    check()
