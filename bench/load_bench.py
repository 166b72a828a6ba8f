"""Issue 14, load: Locust users walking whole journeys, then a zero-loss check in the database.

`run_sqlite`: `advisor serve --workers 2` on one SQLite file (WAL). `run_postgres`: two separate
`advisor serve` instances on two ports over one PostgreSQL database, the users' requests
spread round-robin over both (the app keeps no state of its own: a session, edit key and CSRF
token made on one instance work on the other). Both print throughput, p50/p95/p99 per route
and the failures (there must be none), then check that every answer the load tool got a 303
for is stored exactly once, and that each answered question has exactly one current revision.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from app.migrate import upgrade
from bench.report import Row, record
from tests.serving import Server

LOCUSTFILE = Path(__file__).with_name("load") / "locustfile.py"


@dataclass
class LoadResult:
    """What one load run measured and what the database holds afterwards."""

    label: str
    rows: list[dict[str, str]] = field(default_factory=list)  # Locust's per-route stats
    requests: int = 0
    failures: int = 0
    throughput: float = 0.0
    assessments: int = 0
    acknowledged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No failed request, and nothing lost or doubled."""
        return self.failures == 0 and not self.problems and self.acknowledged > 0

    def report(self) -> str:
        """A table: one line per route, then the totals and the zero-loss verdict."""
        lines = [
            f"  {self.label}: {self.requests:,} requests, {self.throughput:,.0f}/s,"
            f" {self.failures} failed; {self.acknowledged:,} answers acknowledged in"
            f" {self.assessments:,} assessments",
            f"    {'route':18s} {'count':>7s} {'fail':>5s} {'p50 ms':>7s} {'p95 ms':>7s}"
            f" {'p99 ms':>7s}",
        ]
        for row in self.rows:
            lines.append(
                f"    {row['Name']:18s} {int(row['Request Count']):7d}"
                f" {int(row['Failure Count']):5d} {row['50%']:>7s} {row['95%']:>7s}"
                f" {row['99%']:>7s}"
            )
        verdict = "nothing lost or doubled" if not self.problems else "; ".join(self.problems)
        return "\n".join([*lines, f"    zero-loss check: {verdict}"])

    def figures(self) -> list[Row]:
        """The run as report rows: the total with its verdict, then p95 per route."""
        problems = f"; {len(self.problems)} zero-loss problems" if self.problems else ""
        rows = [
            Row(
                "load",
                f"{self.label}: throughput",
                self.throughput,
                "req/s",
                budget="0 failed, nothing lost or doubled",
                ok=self.ok,
                note=f"{self.requests:,} requests, {self.failures} failed;"
                f" {self.acknowledged:,} answers acknowledged in {self.assessments:,}"
                f" assessments{problems}",
            )
        ]
        for row in self.rows:
            rows.append(
                Row(
                    "load",
                    f"{self.label}: {row['Name']} p95",
                    _float(row["95%"]),
                    "ms",
                    note=f"{row['Request Count']} requests, {row['Failure Count']} failed;"
                    f" p50 {row['50%']} ms, p99 {row['99%']} ms",
                )
            )
        return rows


def _float(text: str) -> float:
    """Locust writes N/A for a route with no sample."""
    try:
        return float(text)
    except ValueError:
        return 0.0


def _locust(hosts: list[str], users: int, seconds: int, workdir: Path) -> tuple[Path, Path]:
    """Run Locust headless against the hosts; (stats CSV, ledger)."""
    ledger = workdir / "ledger.jsonl"
    prefix = workdir / "load"
    locust = Path(sys.executable).with_name("locust")
    subprocess.run(
        [
            str(locust),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--host",
            hosts[0],
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "30",
            "--exit-code-on-error",
            "0",
        ],
        env={**os.environ, "LOAD_HOSTS": ",".join(hosts), "LOAD_LEDGER": str(ledger)},
        check=True,
        timeout=seconds + 180,
    )
    return Path(f"{prefix}_stats.csv"), ledger


def _check(database_url: str, ledger: Path, result: LoadResult) -> None:
    """Every acknowledged answer stored exactly once; one current revision per question."""
    entries = [json.loads(line) for line in ledger.read_text().splitlines() if line]
    result.assessments = len(entries)
    result.acknowledged = sum(e["answers"] for e in entries)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = Counter(
                dict(
                    connection.execute(
                        text("SELECT assessment_id, count(*) FROM answers GROUP BY assessment_id")
                    ).all()
                )
            )
            current = Counter(
                dict(
                    connection.execute(
                        text(
                            "SELECT assessment_id, count(*) FROM answers WHERE is_current"
                            " GROUP BY assessment_id"
                        )
                    ).all()
                )
            )
    finally:
        engine.dispose()
    for entry in entries:
        assessment = entry["assessment"]
        if stored[assessment] != entry["answers"]:
            result.problems.append(
                f"{assessment}: {entry['answers']} acknowledged, {stored[assessment]} stored"
            )
        if current[assessment] != len(set(entry["questions"])):
            result.problems.append(
                f"{assessment}: {len(set(entry['questions']))} questions answered,"
                f" {current[assessment]} current revisions"
            )


def _read_stats(stats: Path, result: LoadResult) -> None:
    with stats.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    result.rows = [r for r in rows if r["Name"] != "Aggregated"]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    result.requests = int(total["Request Count"])
    result.failures = int(total["Failure Count"])
    result.throughput = float(total["Requests/s"])


def _env(database_url: str, workdir: Path, secret: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "DATA_DIR": str(workdir / "data"),
        "LOCAL_WORKER": "false",
    }


def run_sqlite(users: int, seconds: int, workdir: Path) -> LoadResult:
    """`advisor serve --workers 2` on a fresh SQLite file."""
    database_url = f"sqlite:///{workdir / 'advisor.db'}"
    upgrade(database_url)
    result = LoadResult(f"SQLite, --workers 2, {users} users, {seconds} s")
    server = Server(_env(database_url, workdir, secrets.token_hex(32)), workdir, workers=2)
    try:
        server.wait_ready()
        stats, ledger = _locust([server.base_url], users, seconds, workdir)
    finally:
        server.close()
    _read_stats(stats, result)
    _check(database_url, ledger, result)
    return result


def run_postgres(database_url: str, users: int, seconds: int, workdir: Path) -> LoadResult:
    """Two instances on two ports over one PostgreSQL database, requests round-robin."""
    upgrade(database_url)
    result = LoadResult(f"PostgreSQL, 2 instances round-robin, {users} users, {seconds} s")
    secret = secrets.token_hex(32)  # one secret: a session or form token made on one is valid
    servers = [Server(_env(database_url, workdir, secret), workdir) for _ in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        stats, ledger = _locust([s.base_url for s in servers], users, seconds, workdir)
    finally:
        for server in servers:
            server.close()
    _read_stats(stats, result)
    _check(database_url, ledger, result)
    return result


@contextmanager
def scratch_postgres(admin_url: str) -> Iterator[str]:
    """A throw-away database on the server of `admin_url`, dropped afterwards."""
    name = f"advisor_load_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run() -> bool:
    """`make bench`: 64 users for 60 s on SQLite, and on PostgreSQL if TEST_POSTGRES_URL is set."""
    users = int(os.environ.get("BENCH_LOAD_USERS", "64"))
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        results.append(run_sqlite(users, seconds, Path(workdir)))
    admin_url = os.environ.get("TEST_POSTGRES_URL")
    if admin_url:
        with tempfile.TemporaryDirectory() as workdir, scratch_postgres(admin_url) as url:
            results.append(run_postgres(url, users, seconds, Path(workdir)))
    else:
        print("  PostgreSQL: TEST_POSTGRES_URL is not set; skipped")
    for result in results:
        print(result.report())
        record(*result.figures())
    return all(r.ok for r in results)
