"""Issue 8, "never freeze": 1,000 concurrent requests per kind of route against `advisor serve`.

The same bursts as tests/web/test_never_freeze.py, five times larger: for each kind of route,
how many requests were answered (2xx/3xx), shed (503 with Retry-After) or failed, their p50
and p99 latency and the slowest /healthz poll meanwhile; then the time from SIGTERM to exit
with a burst in flight. One `advisor serve` process on a fresh SQLite file, as `make run` runs.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

from app.migrate import upgrade
from bench.report import Row, record
from tests.serving import (
    HEALTH_PERIOD_S,
    SHUTDOWN_LIMIT_S,
    Burst,
    Server,
    Visitor,
    burst,
    raise_open_files_limit,
    route_kinds,
    terminate_under_load,
    visit,
)

CONNECTIONS = int(os.environ.get("BENCH_BURST", "1000"))
HEALTH_LIMIT_S = 1.0
# Shorter than a burst's client timeout: once a burst has frozen the server, move on quickly.
VISIT_TIMEOUT_S = 5.0


def _row(result: Burst) -> str:
    """One line of the table."""
    return (
        f"  {result.route:20s} {result.answered:8d} {result.shed:6d} {result.errors:6d}"
        f" {result.p50_s * 1000:8.0f} {result.p99_s * 1000:8.0f}"
        f" {result.worst_health_s * 1000:10.0f}"
    )


def _shortfalls(result: Burst) -> list[str]:
    """Why a burst fails: a request failed, or /healthz was not a 200 within the limit."""
    shortfalls = []
    if result.errors:
        shortfalls.append(f"{result.errors} requests failed")
    if not result.health:
        shortfalls.append("/healthz never polled")
    if result.health_failures:
        shortfalls.append(f"/healthz failed {len(result.health_failures)} times")
    if result.worst_health_s >= HEALTH_LIMIT_S:
        shortfalls.append(f"/healthz over {HEALTH_LIMIT_S:.0f} s")
    return shortfalls


def _visit(server: Server, label: str, problems: list[str]) -> Visitor | None:
    """A fresh assessment and CSRF pair, or None (reported) when the server does not answer."""
    try:
        return visit(server.base_url, timeout_s=VISIT_TIMEOUT_S)
    except Exception as exc:  # a frozen server: report it and carry on with the next kind
        problems.append(f"{label}: could not start an assessment: {exc!r}")
        return None


def run() -> bool:
    """Burst every kind of route, then stop the server under load; True when nothing failed."""
    # Each burst holds a client and a server socket per connection in this process tree.
    raise_open_files_limit(4 * CONNECTIONS + 256)
    results: list[Burst] = []
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="advisor-concurrency-") as tmp:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'advisor.db'}"
        upgrade(database_url)
        env = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "DATA_DIR": str(workdir / "data"),
        }
        server = Server(env, workdir)
        try:
            server.wait_ready()
            print(
                f"concurrency bench: {CONNECTIONS} concurrent connections per route kind,"
                f" /healthz polled every {HEALTH_PERIOD_S * 1000:.0f} ms meanwhile"
            )
            print(
                f"  {'route':20s} {'answered':>8s} {'shed':>6s} {'errors':>6s}"
                f" {'p50 ms':>8s} {'p99 ms':>8s} {'/healthz ms':>10s}"
            )
            for kind in route_kinds():
                visitor = _visit(server, kind.name, problems)
                if visitor is None:
                    continue
                result = burst(server.base_url, kind, visitor, CONNECTIONS)
                results.append(result)
                shortfalls = _shortfalls(result)
                record(
                    Row(
                        "concurrency",
                        f"{result.route}: {CONNECTIONS} at once, p99",
                        result.p99_s * 1000,
                        "ms",
                        budget="0 errors, /healthz < 1 s",
                        ok=not shortfalls,
                        note=f"{result.answered} answered, {result.shed} shed, {result.errors}"
                        f" errors; p50 {result.p50_s * 1000:.0f} ms; slowest /healthz"
                        f" {result.worst_health_s * 1000:.0f} ms",
                    )
                )
                print(_row(result) + (f"  FAILED: {', '.join(shortfalls)}" if shortfalls else ""))
                if result.failures:
                    problems.append(f"{result.route}: {dict(result.failures)}")
                if result.health_failures:
                    problems.append(f"{result.route} /healthz: {result.health_failures[:5]}")
            step_page = next(kind for kind in route_kinds() if kind.name == "step_page")
            visitor = _visit(server, "SIGTERM", problems)
            in_flight = 0 if visitor is None else CONNECTIONS
            exited_after = (
                server.terminate()
                if visitor is None
                else terminate_under_load(server, step_page, visitor, CONNECTIONS)
            )
        finally:
            server.close()
    for problem in problems:
        print(f"  {problem}")
    record(
        Row(
            "concurrency",
            f"SIGTERM to exit, {in_flight} requests in flight",
            SHUTDOWN_LIMIT_S if exited_after is None else exited_after,
            "s",
            budget=f"< {SHUTDOWN_LIMIT_S:.0f} s",
            ok=exited_after is not None,
            note="killed: still running at the limit" if exited_after is None else "",
        )
    )
    if exited_after is None:
        print(
            f"  SIGTERM with {in_flight} requests in flight: still running after"
            f" {SHUTDOWN_LIMIT_S:.0f} s, killed  FAILED"
        )
    else:
        print(
            f"  SIGTERM with {in_flight} requests in flight: exited after {exited_after:.2f} s"
            f" (limit {SHUTDOWN_LIMIT_S:.0f} s)"
        )
    return (
        not problems
        and len(results) == len(route_kinds())
        and not any(_shortfalls(result) for result in results)
        and exited_after is not None
    )


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
