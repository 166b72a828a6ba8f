"""Issue 8, "never freeze": a real `advisor serve` answers or sheds bursts, and stops when told.

Every kind of route gets 200 requests at once. Each must be answered (2xx/3xx) or refused with
503 and Retry-After, none may fail or time out, /healthz must keep answering within a second
meanwhile, every answer acknowledged must be stored, and SIGTERM must end the process promptly
even with requests in flight. A frozen server fails these within the client timeout.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.serving import (
    CLIENT_TIMEOUT_S,
    CSRF_FIELD,
    KEY_COOKIE_PREFIX,
    SHUTDOWN_LIMIT_S,
    RouteKind,
    Server,
    answer_revisions,
    burst,
    csrf_token_in,
    form_inputs,
    is_shed,
    raise_open_files_limit,
    route_kinds,
    run_coroutine,
    terminate_under_load,
    visit,
)

# Serial: /healthz must answer within a second during each burst, which a busy core breaks.
pytestmark = pytest.mark.serial

BURST = 200
HEALTH_LIMIT_S = 1.0
KINDS = route_kinds()
USERS = 8
WALK_S = 5.0
# A burst is bounded by the client timeout; the rest is start-up, history and slack.
TEST_TIMEOUT_S = int(CLIENT_TIMEOUT_S) + 90


def _server_env(database_url: str, workdir: Path) -> dict[str, str]:
    """What an operator sets: the database, a real secret and a data dir."""
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "DATA_DIR": str(workdir / "data"),
    }


def _copy_of(template: Path, folder: Path) -> str:
    """A fresh, migrated SQLite database: a copy of the session's migrated template."""
    path = folder / "advisor.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


# Module-scoped, unlike conftest's `database_url`: one server process serves every burst.
@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database for the module's server, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        yield _copy_of(template, tmp_path_factory.mktemp("never-freeze-db"))
        return
    url: str = request.getfixturevalue("migrated_postgres_url")
    yield url
    # The session's PostgreSQL database is shared with other modules: leave it empty.
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE recommendation_snapshots, answers, assessments CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module")
def server(served_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`advisor serve` on a free port, killed at the end of the module whatever happened."""
    raise_open_files_limit(4 * BURST)
    workdir = tmp_path_factory.mktemp("never-freeze-serve")
    running = Server(_server_env(served_database, workdir), workdir)
    try:
        running.wait_ready()
        yield running
    finally:
        running.close()


def _require_responsive(server: Server) -> None:
    """Fail at once, instead of after a client timeout, when an earlier test left it wedged."""
    if server.process.poll() is not None:
        pytest.fail(f"advisor serve is not running any more:\n{server.log_tail()}")
    try:
        health = httpx.get(f"{server.base_url}/healthz", timeout=5)
    except httpx.HTTPError as exc:
        pytest.fail(f"advisor serve does not answer /healthz ({type(exc).__name__}): frozen?")
    assert health.status_code == 200, health.text


@pytest.mark.timeout(TEST_TIMEOUT_S)
@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_burst_is_answered_or_shed(server: Server, kind: RouteKind) -> None:
    """200 concurrent requests: each answered or shed with Retry-After; /healthz stays fast."""
    _require_responsive(server)
    visitor = visit(server.base_url)
    result = burst(server.base_url, kind, visitor, BURST)
    problems = []
    if result.errors:
        problems.append(f"{result.errors} of {BURST} requests failed: {dict(result.failures)}")
    if not result.health:
        problems.append("/healthz was never polled during the burst")
    slow = [
        f"{s:.2f} s" for s, outcome in result.health if outcome == "200" and s >= HEALTH_LIMIT_S
    ]
    if result.health_failures:
        problems.append(f"/healthz failed during the burst: {result.health_failures}")
    if slow:
        problems.append(f"/healthz took {HEALTH_LIMIT_S} s or more: {slow}")
    if kind.stores_answer:
        stored = answer_revisions(server.base_url, visitor.assessment_id, visitor.edit_key)
        if stored != result.answered:
            problems.append(f"{result.answered} answers acknowledged but {stored} stored")
    assert not problems, (
        f"{kind.name}: " + "; ".join(problems) + f"\n(answered {result.answered}, shed"
        f" {result.shed}, p99 {result.p99_s:.2f} s)\nserver log:\n{server.log_tail()}"
    )


# Runs last in the module (pytest keeps file order within each database): it stops the server.
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_sigterm_with_requests_in_flight_exits_promptly(server: Server) -> None:
    """SIGTERM in the middle of a burst: the process ends within the limit, not when it drains."""
    _require_responsive(server)
    step_page = next(kind for kind in KINDS if kind.name == "step_page")
    exited_after = terminate_under_load(server, step_page, visit(server.base_url), BURST)
    assert exited_after is not None, (
        f"advisor serve still ran {SHUTDOWN_LIMIT_S} s after SIGTERM and was killed:\n"
        f"{server.log_tail()}"
    )


@dataclass
class _Walks:
    """What the simulated users met, and how many answers each assessment had acknowledged."""

    outcomes: Counter[str] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)
    keys: dict[str, str] = field(default_factory=dict)  # each assessment's edit key

    @property
    def unexpected(self) -> dict[str, int]:
        """Every outcome but a 200, a 303 or a 503 with Retry-After."""
        return {k: n for k, n in self.outcomes.items() if k not in ("200", "303", "shed")}


async def _request(
    client: httpx.AsyncClient, walks: _Walks, method: str, url: str, **kwargs: Any
) -> httpx.Response | None:
    """One request of a walk: the response when it is a 200 or a 303, else None (tallied)."""
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        walks.outcomes[type(exc).__name__] += 1
    else:
        walks.outcomes["shed" if is_shed(response) else str(response.status_code)] += 1
        if response.status_code in (200, 303):
            return response
    await asyncio.sleep(0.1)  # back off before the retry, as a browser user would
    return None


async def _walk(base_url: str, deadline: float, walks: _Walks) -> None:
    """One user: start an assessment, answer step after step, start again, until the deadline."""
    async with httpx.AsyncClient(base_url=base_url, timeout=CLIENT_TIMEOUT_S) as client:
        start_page = None
        while start_page is None and time.monotonic() < deadline:
            start_page = await _request(client, walks, "GET", "/")
        token = csrf_token_in(start_page.text) if start_page is not None else ""
        while time.monotonic() < deadline:
            started = await _request(
                client, walks, "POST", "/assessments", data={CSRF_FIELD: token}
            )
            if started is None:
                continue
            location = started.headers.get("location", "")
            if not location.startswith("/assessments/"):
                walks.outcomes[f"POST /assessments: {started.status_code} to {location!r}"] += 1
                break
            assessment_id = location.split("/")[2]
            walks.keys[assessment_id] = client.cookies[KEY_COOKIE_PREFIX + assessment_id]
            walks.acknowledged[assessment_id] += 0  # an assessment with no answer yet counts too
            # The start leads to the first screen; this walk answers the per-question steps.
            location = f"/assessments/{assessment_id}/steps/gap"
            while "/steps/" in location and time.monotonic() < deadline:
                page = await _request(client, walks, "GET", location)
                if page is None:
                    continue
                if page.status_code == 303:
                    location = page.headers["location"]
                    continue
                inputs = dict(reversed(form_inputs(page.text)))  # the first input of each name
                if CSRF_FIELD not in inputs or "value" not in inputs:
                    walks.outcomes[f"no form on {location}"] += 1
                    break
                token, choice = inputs[CSRF_FIELD], inputs["value"]
                posted = await _request(
                    client, walks, "POST", location, data={CSRF_FIELD: token, "value": choice}
                )
                if posted is not None and posted.status_code == 303:
                    walks.acknowledged[assessment_id] += 1
                    location = posted.headers["location"]


@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_two_workers_on_sqlite_lose_no_answer(
    migrated_sqlite_template: Path, tmp_path: Path
) -> None:
    """`--workers 2` on one SQLite file: 8 users walk the questionnaire; no 500, no lost answer."""
    database_url = _copy_of(migrated_sqlite_template, tmp_path)
    server = Server(_server_env(database_url, tmp_path), tmp_path, workers=2)
    try:
        server.wait_ready()
        walks = _Walks()
        deadline = time.monotonic() + WALK_S

        async def walk_all() -> None:
            await asyncio.gather(*(_walk(server.base_url, deadline, walks) for _ in range(USERS)))

        run_coroutine(walk_all())
        assert walks.acknowledged.total() > 0, f"no answer was acknowledged: {walks.outcomes}"
        assert not walks.unexpected, (
            f"unexpected outcomes {walks.unexpected} among {dict(walks.outcomes)}\n"
            f"server log:\n{server.log_tail()}"
        )
        stored_by_id = {
            assessment_id: answer_revisions(server.base_url, assessment_id, key, None)
            for assessment_id, key in walks.keys.items()
        }
        lost = {
            assessment_id: (acknowledged, stored_by_id[assessment_id])
            for assessment_id, acknowledged in walks.acknowledged.items()
            if stored_by_id[assessment_id] != acknowledged
        }
        assert not lost, f"(acknowledged, stored) answers differ for {lost}"
        exited_after = server.terminate()
        assert exited_after is not None, f"still running {SHUTDOWN_LIMIT_S} s after SIGTERM"
    finally:
        server.close()
