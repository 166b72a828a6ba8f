"""A real `advisor serve` process and bursts of concurrent requests against it.

Shared by tests/web/test_never_freeze.py (200 connections a burst) and bench/concurrency_bench.py
(1,000): both start the console script as an operator would, fire every kind of route at it
at once, and watch /healthz on a connection of its own meanwhile.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
CSRF_COOKIE = "advisor_csrf"
KEY_COOKIE_PREFIX = "advisor_key_"  # one cookie per assessment holds its edit key
CSRF_FIELD = "csrf_token"
# Long enough for a saturated but working server, short enough that a frozen one fails a test.
CLIENT_TIMEOUT_S = 30.0
HEALTH_PERIOD_S = 0.1
HEALTH_TIMEOUT_S = 5.0
SHUTDOWN_LIMIT_S = 10.0
# A valid answer to the first question (app/decision/data/questions.toml spells it the US way).
GAP_ANSWER = "behavior"
DATASET_JSONL = b"\n".join(
    b'{"messages": [{"role": "user", "content": "Price of plan %d?"}, '
    b'{"role": "assistant", "content": "Plan %d costs %d EUR a month."}]}' % (n, n, 10 * n)
    for n in range(1, 6)
)


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: the test session's thread may already be running
    an event loop (Playwright's sync API keeps one for the browser tests' session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raise_open_files_limit(needed: int) -> None:
    """Lift the soft limit on open files so that `needed` sockets fit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class Server:
    """One `advisor serve` process on a free loopback port; its output goes to a log file."""

    def __init__(self, env: Mapping[str, str], workdir: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"serve-{self.port}.log"
        advisor = Path(sys.executable).with_name("advisor")
        args = [str(advisor), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if workers > 1:
            args += ["--workers", str(workers)]
        with self.log_path.open("wb") as log:
            # Its own session (process group), so that a kill also reaches --workers children;
            # workdir as cwd, so that no developer's .env leaks into the settings.
            self.process = subprocess.Popen(
                args,
                cwd=workdir,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until /healthz answers 200; raise with the server's output if it never does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"advisor serve exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.close()
        raise RuntimeError(f"advisor serve did not answer /healthz in {timeout_s} s")

    def terminate(self, limit_s: float = SHUTDOWN_LIMIT_S) -> float | None:
        """SIGTERM, as a process manager stops it; seconds until it exited, None if killed."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            self.close()
            return None
        return time.perf_counter() - started

    def close(self) -> None:
        """Kill the process and its workers if anything is still running (teardown, failures)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class _Inputs(HTMLParser):
    """Collects (name, value) of every <input> on a page, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            named = dict(attrs)
            self.inputs.append((named.get("name") or "", named.get("value") or ""))


def form_inputs(html: str) -> list[tuple[str, str]]:
    """(name, value) of every input on an HTML page."""
    parser = _Inputs()
    parser.feed(html)
    parser.close()
    return parser.inputs


def csrf_token_in(html: str) -> str:
    """The CSRF form token of a page."""
    token = next((value for name, value in form_inputs(html) if name == CSRF_FIELD), None)
    if not token:
        raise AssertionError(f"no {CSRF_FIELD} input on the page:\n{html[:500]}")
    return token


@dataclass(frozen=True)
class Visitor:
    """A browser's session: its assessment and edit key, CSRF cookie and matching form token."""

    assessment_id: str
    edit_key: str
    csrf_cookie: str
    csrf_token: str

    @property
    def headers(self) -> dict[str, str]:
        """The session's cookies, sent with every request like a browser would."""
        key_cookie = f"{KEY_COOKIE_PREFIX}{self.assessment_id}={self.edit_key}"
        return {"Cookie": f"{CSRF_COOKIE}={self.csrf_cookie}; {key_cookie}"}


def visit(base_url: str, timeout_s: float = CLIENT_TIMEOUT_S) -> Visitor:
    """Start an assessment through the API and pick up the CSRF cookie from its first step."""
    with httpx.Client(base_url=base_url, timeout=timeout_s) as client:
        created = client.post("/api/assessments", json={})
        if created.status_code != 201:
            raise AssertionError(f"POST /api/assessments: {created.status_code} {created.text}")
        assessment_id, edit_key = created.json()["id"], created.json()["edit_key"]
        page = client.get(
            f"/assessments/{assessment_id}/steps/gap",
            headers={"Authorization": f"Bearer {edit_key}"},
        )
        if page.status_code != 200:
            raise AssertionError(f"step page: {page.status_code} {page.text[:500]}")
        cookie = page.cookies.get(CSRF_COOKIE)
        if not cookie:
            raise AssertionError(f"the step page set no {CSRF_COOKIE} cookie")
        return Visitor(assessment_id, edit_key, cookie, csrf_token_in(page.text))


def answer_revisions(
    base_url: str, assessment_id: str, edit_key: str, question_id: str | None = "gap"
) -> int:
    """How many revisions of one answer (of every answer: None) the assessment's history holds."""
    history = httpx.get(
        f"{base_url}/api/assessments/{assessment_id}/history",
        headers={"Authorization": f"Bearer {edit_key}"},
        timeout=CLIENT_TIMEOUT_S,
    )
    if history.status_code != 200:
        raise AssertionError(f"history: {history.status_code} {history.text[:500]}")
    return sum(1 for r in history.json() if question_id is None or r["question"] == question_id)


@dataclass(frozen=True)
class Call:
    """One HTTP request, sent as many times as a burst needs."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any = None
    data: Mapping[str, str] | None = None
    content: bytes | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None

    def encode(self, base_url: str) -> bytes:
        """The request as HTTP/1.1 bytes on a connection of its own (httpx writes the body)."""
        request = httpx.Request(
            self.method,
            base_url + self.path,
            headers={**self.headers, "Connection": "close"},
            json=self.json,
            data=dict(self.data) if self.data is not None else None,
            content=self.content,
            files=dict(self.files) if self.files is not None else None,
        )
        head = [f"{self.method} {request.url.raw_path.decode()} HTTP/1.1".encode()]
        head += [b"%s: %s" % (name, value) for name, value in request.headers.raw]
        return b"\r\n".join(head) + b"\r\n\r\n" + request.read()


@dataclass(frozen=True)
class RouteKind:
    """A kind of route a burst hits; `stores_answer`: every success adds a `gap` revision."""

    name: str
    request: Callable[[Visitor], Call]
    stores_answer: bool = False


def route_kinds() -> tuple[RouteKind, ...]:
    """Every kind of route: API read and write, step page and post, result, recipe, datasets."""

    def assessment(v: Visitor) -> str:
        return f"/api/assessments/{v.assessment_id}"

    def step(v: Visitor) -> str:
        return f"/assessments/{v.assessment_id}/steps/gap"

    return (
        RouteKind("api_read", lambda v: Call("GET", assessment(v), v.headers)),
        RouteKind(
            "api_write",
            lambda v: Call(
                "PUT", f"{assessment(v)}/answers/gap", v.headers, json={"value": GAP_ANSWER}
            ),
            stores_answer=True,
        ),
        RouteKind("step_page", lambda v: Call("GET", step(v), v.headers)),
        RouteKind(
            "answer_post",
            lambda v: Call(
                "POST",
                step(v),
                v.headers,
                data={"value": GAP_ANSWER, CSRF_FIELD: v.csrf_token},
            ),
            stores_answer=True,
        ),
        RouteKind(
            "result_page",
            lambda v: Call("GET", f"/assessments/{v.assessment_id}/result", v.headers),
        ),
        RouteKind(
            "recipe_page",
            lambda v: Call("GET", f"/recipes/sft-lora?assessment={v.assessment_id}", v.headers),
        ),
        RouteKind(
            "api_dataset_check",
            lambda v: Call(
                "POST",
                "/api/recipes/dataset-check?method=sft",
                {**v.headers, "Content-Type": "application/x-ndjson"},
                content=DATASET_JSONL,
            ),
        ),
        RouteKind(
            "page_dataset_check",
            lambda v: Call(
                "POST",
                "/recipes/sft-lora/dataset-check",
                v.headers,
                data={CSRF_FIELD: v.csrf_token, "max_length": "2048"},
                files={"file": ("train.jsonl", DATASET_JSONL, "application/x-ndjson")},
            ),
        ),
    )


def is_shed(response: httpx.Response | Reply) -> bool:
    """A refusal the client can act on: 503 saying when to come back."""
    return response.status_code == 503 and "retry-after" in response.headers


@dataclass(frozen=True)
class Reply:
    """The status and headers (lower-case names) of one response to a burst's request."""

    status_code: int
    headers: Mapping[str, str]


def _percentile(values: list[float], fraction: float) -> float:
    """The value at `fraction` of the sorted list (nearest rank); 0 for an empty list."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Burst:
    """What one burst of concurrent requests got back, and how /healthz answered meanwhile."""

    route: str
    sent: int
    answered: int = 0  # 2xx or 3xx
    shed: int = 0  # 503 with Retry-After
    failures: Counter[str] = field(default_factory=Counter)  # anything else, by status or error
    latencies_s: list[float] = field(default_factory=list)  # of every response received
    health: list[tuple[float, str]] = field(default_factory=list)  # (seconds, status or error)

    @property
    def errors(self) -> int:
        """Requests answered neither 2xx/3xx nor 503 with Retry-After, or not answered at all."""
        return sum(self.failures.values())

    @property
    def p50_s(self) -> float:
        """The median latency of the responses received."""
        return _percentile(self.latencies_s, 0.50)

    @property
    def p99_s(self) -> float:
        """The 99th percentile latency of the responses received."""
        return _percentile(self.latencies_s, 0.99)

    @property
    def worst_health_s(self) -> float:
        """The slowest /healthz poll (its timeout when one got no answer)."""
        return max((seconds for seconds, _ in self.health), default=0.0)

    @property
    def health_failures(self) -> list[str]:
        """Every /healthz poll that was not a 200."""
        return [f"{outcome} after {s:.2f} s" for s, outcome in self.health if outcome != "200"]


class HealthWatch:
    """Polls /healthz every HEALTH_PERIOD_S on a connection and thread of its own.

    A thread, not a task on the burst's event loop: the client's own work on a thousand
    responses would otherwise delay the polls and be counted against the server.
    """

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="healthz-watch", daemon=True)
        self.polls: list[tuple[float, str]] = []

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        with httpx.Client(base_url=self._base_url, timeout=HEALTH_TIMEOUT_S) as client:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    outcome = str(client.get("/healthz").status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                elapsed = time.perf_counter() - started
                self.polls.append((elapsed, outcome))
                self._stop.wait(max(0.0, HEALTH_PERIOD_S - elapsed))


async def _exchange(port: int, request: bytes) -> Reply:
    """Send one request on a new connection and read its whole response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line, *header_lines = (
            (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        )
        # The body is not checked, but the response counts only once it has all arrived.
        while await reader.read(65536):
            pass
    finally:
        writer.close()
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return Reply(int(status_line.split(" ", 2)[1]), headers)


async def _fire(
    base_url: str, call: Call, count: int, timeout_s: float
) -> list[tuple[float, Reply | str]]:
    """Send `count` copies of `call` at once, each on its own connection; (seconds, outcome).

    Raw asyncio streams rather than httpx.AsyncClient, whose pool costs more per request as
    connections pile up than the server spends on the request (3 s against 0.6 s for 200).
    """
    request = call.encode(base_url)
    port = int(base_url.rsplit(":", 1)[1])

    async def one() -> tuple[float, Reply | str]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                reply = await _exchange(port, request)
        except TimeoutError:
            return time.perf_counter() - started, "timeout"
        except Exception as exc:  # every failure is counted, none stops the burst
            return time.perf_counter() - started, type(exc).__name__
        return time.perf_counter() - started, reply

    return await asyncio.gather(*(one() for _ in range(count)))


def burst(
    base_url: str,
    kind: RouteKind,
    visitor: Visitor,
    count: int,
    timeout_s: float = CLIENT_TIMEOUT_S,
) -> Burst:
    """Fire `count` concurrent requests of one kind while watching /healthz."""
    result = Burst(kind.name, count)
    with HealthWatch(base_url) as watch:
        outcomes = run_coroutine(_fire(base_url, kind.request(visitor), count, timeout_s))
    result.health = watch.polls
    for seconds, outcome in outcomes:
        if isinstance(outcome, str):
            result.failures[outcome] += 1
            continue
        result.latencies_s.append(seconds)
        if 200 <= outcome.status_code < 400:
            result.answered += 1
        elif is_shed(outcome):
            result.shed += 1
        elif outcome.status_code == 503:
            result.failures["503 without Retry-After"] += 1
        else:
            result.failures[str(outcome.status_code)] += 1
    return result


def terminate_under_load(
    server: Server, kind: RouteKind, visitor: Visitor, count: int, head_start_s: float = 0.5
) -> float | None:
    """SIGTERM while a burst is in flight; seconds until the process exited, None if killed."""

    async def run() -> float | None:
        requests = asyncio.ensure_future(
            _fire(server.base_url, kind.request(visitor), count, CLIENT_TIMEOUT_S)
        )
        await asyncio.sleep(head_start_s)
        exited_after = await asyncio.to_thread(server.terminate)
        await requests  # their outcomes do not matter: only that the process ends in time
        return exited_after

    return run_coroutine(run())
