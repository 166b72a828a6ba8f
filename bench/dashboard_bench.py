"""The team dashboard at 100,000 assessments (issue 13): p95 under 50 ms, SQLite and PostgreSQL.

For each database: a served app (uvicorn, one worker, as `advisor serve` runs it) with a team
of four made through the API, seeded by `advisor demo-data` (its time is printed), then one
client asks in turn, over a kept-alive connection, for the dashboard's first page and for
filtered searches (a rotation of word, status, primary approach and author filters), as JSON
(`/api/teams/{id}/assessments`) and as the HTML page. Each figure is the p95 of `REQUESTS`
requests after a warm-up; the budget is judged on every one of them.

A bare floor is printed beside them, as the other benches do: the same queries run in-process
on the same database with SQLAlchemy Core and no web layer, so the ratio shows what the
layers around the queries cost.

PostgreSQL runs when BENCH_POSTGRES_URL or TEST_POSTGRES_URL names a server (a throw-away
database is made on it and dropped); without one it is reported as not run.

A freshly seeded PostgreSQL database is vacuumed before it is timed, as autovacuum would have
done (ADR 0020). Seeding 100,000 assessments takes minutes: with BENCH_DASHBOARD_KEEP naming a
directory, the SQLite file is kept there and the PostgreSQL database (`advisor_bench_dashboard`)
is kept too, each with a note of its team, and a later run upgrades and reuses them instead of
seeding.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.report import Row, record
from bench.web_bench import ROOT, _serve
from tests.serving import free_port

ASSESSMENTS = int(os.environ.get("BENCH_DASHBOARD_ASSESSMENTS", "100000"))
REQUESTS = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", "200"))
WARM_UP = 20
BUDGET_P95_MS = 50.0
PASSWORD = "bench password 1"
KEEP = os.environ.get("BENCH_DASHBOARD_KEEP")
KEPT_POSTGRES = "advisor_bench_dashboard"


def _p95(samples: list[float]) -> float:
    """The 95th percentile, in ms."""
    return statistics.quantiles(samples, n=20)[-1] * 1000


def _p50(samples: list[float]) -> float:
    """The median, in ms."""
    return statistics.median(samples) * 1000


def _advisor(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    )


def _team(client: httpx.Client) -> tuple[str, dict[str, str], list[str]]:
    """A team of four (owner, reviewer, two members) made through the API: its id, the owner's
    header and the members' ids."""
    headers, ids = [], []
    for n in range(4):
        email = f"bench{n}@example.org"
        made = client.post("/api/users", json={"email": email, "password": PASSWORD})
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
        token = client.post("/api/tokens", json={"email": email, "password": PASSWORD})
        headers.append({"Authorization": f"Bearer {token.json()['token']}"})
    team_id = client.post("/api/teams", json={"name": "Bench"}, headers=headers[0]).json()["id"]
    for role, member in zip(("reviewer", "member", "member"), headers[1:], strict=True):
        made = client.post(f"/api/teams/{team_id}/invites", json={"role": role}, headers=headers[0])
        accepted = client.post(f"/api/invites/{made.json()['token']}/accept", headers=member)
        assert accepted.status_code == 200, accepted.text
    return team_id, headers[0], ids


def _searches(team_id: str, authors: list[str]) -> list[str]:
    """The filtered searches a team member would run, in rotation."""
    base = f"/api/teams/{team_id}/assessments"
    return [
        f"{base}?q=support",
        f"{base}?q=latency&status=in_review",
        f"{base}?status=approved&primary=rag",
        f"{base}?author={authors[1]}&sort=-created",
        f"{base}?q=invoice+extraction&sort=title",
        f"{base}?primary=fine_tuning&since=2025-06-01",
    ]


def _time(client: httpx.Client, urls: list[str], headers: dict[str, str]) -> list[float]:
    """Seconds per request, the URLs taken in turn; each must answer 200."""
    samples = []
    for n in range(WARM_UP + REQUESTS):
        url = urls[n % len(urls)]
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        if n >= WARM_UP:
            samples.append(elapsed)
    return samples


def _bare(url: str, team_id: str, authors: list[str]) -> Callable[[bool], float]:
    """The floor: the dashboard's own service queries, run in-process without the web."""
    from app.services import dashboard
    from app.settings import Settings
    from app.storage import make_engine, unit_of_work

    engine = make_engine(Settings(database_url=url))
    queries = [
        dashboard.DashboardQuery(q="support"),
        dashboard.DashboardQuery(q="latency", status="in_review"),
        dashboard.DashboardQuery(status="approved", primary="rag"),
        dashboard.DashboardQuery(author=authors[1], sort="-created"),
        dashboard.DashboardQuery(q="invoice extraction", sort="title"),
    ]

    def run(filtered: bool) -> float:
        samples = []
        for n in range(WARM_UP + REQUESTS):
            query = queries[n % len(queries)] if filtered else dashboard.DashboardQuery()
            start = time.perf_counter()
            with unit_of_work(engine, write=False) as session:
                dashboard.matching(session, team_id, query)
            if n >= WARM_UP:
                samples.append(time.perf_counter() - start)
        return _p95(samples)

    return run


@contextmanager
def _postgres() -> Iterator[str | None]:
    """A throw-away PostgreSQL database, if a server is named; else None."""
    admin_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    if not admin_url:
        yield None
        return
    from sqlalchemy import create_engine, text

    name = KEPT_POSTGRES if KEEP else f"advisor_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        if not KEEP:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seeded(
    label: str, url: str, client: httpx.Client, note: Path | None
) -> tuple[str, dict[str, str], list[str]]:
    """The team to time: seeded now, or (kept databases) the one a past run seeded."""
    if note is not None and note.exists():
        kept = json.loads(note.read_text())
        token = client.post(
            "/api/tokens", json={"email": "bench0@example.org", "password": PASSWORD}
        )
        owner = {"Authorization": f"Bearer {token.json()['token']}"}
        print(f"  {label}: reusing the {kept['assessments']:,} assessments seeded in {note.parent}")
        return kept["team_id"], owner, kept["authors"]
    team_id, owner, authors = _team(client)
    start = time.perf_counter()
    seeded = _advisor("demo-data", "--team", team_id, "--assessments", str(ASSESSMENTS), url=url)
    seconds = time.perf_counter() - start
    print(f"  {label}: {seeded.stdout.strip()} ({seconds:.0f} s with the process start)")
    if not url.startswith("sqlite"):
        _vacuumed(url)
        print(f"  {label}: VACUUM (ANALYZE) after the seed, as autovacuum would do")
    if note is not None:
        note.write_text(
            json.dumps({"team_id": team_id, "authors": authors, "assessments": ASSESSMENTS})
        )
    return team_id, owner, authors


def _vacuumed(url: str) -> None:
    """Vacuum and analyse a freshly seeded PostgreSQL database. Autovacuum does this within a
    minute of a bulk load; left to it, it ran during the timing on two cores (54.7 ms at p95
    against 44.9 once it had finished, docs/adr/0020). SQLite is left as it is: the
    dashboard's plans are chosen for SQLite without statistics."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def _one(label: str, url: str, note: Path | None = None) -> bool:
    """Seed (or reuse), serve and time one database; print its figures; True within budget."""
    _advisor("db", "upgrade", url=url)
    port = free_port()
    server = _serve("app.main:create_app", port, {"DATABASE_URL": url, "LOCAL_WORKER": "false"})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            team_id, owner, authors = _seeded(label, url, client, note)
            api = f"/api/teams/{team_id}/assessments"
            page = f"/teams/{team_id}/assessments"
            searches = _searches(team_id, authors)
            samples = {
                "JSON first page": _time(client, [api], owner),
                "JSON filtered search": _time(client, searches, owner),
                "HTML first page": _time(client, [page], owner),
                "HTML filtered search": _time(
                    client, [s.replace(api, page) for s in searches], owner
                ),
            }
            figures = {name: _p95(timed) for name, timed in samples.items()}
            medians = {name: _p50(timed) for name, timed in samples.items()}
            total = client.get(api, headers=owner).json()["total"]
    finally:
        server.terminate()
        server.wait()
    bare = _bare(url, team_id, authors)
    floors = {"first page": bare(False), "filtered search": bare(True)}
    ok = True
    for name, p95 in figures.items():
        within = p95 < BUDGET_P95_MS
        ok &= within
        floor = floors["filtered search" if "search" in name else "first page"]
        record(
            Row(
                "dashboard",
                f"{label} {name}, p95 at {total:,} assessments",
                p95,
                "ms",
                floor=floor,
                ratio=p95 / floor if floor else None,
                budget=f"< {BUDGET_P95_MS:.0f} ms",
                ok=within,
                note="floor: the same queries in process, no web layer",
            )
        )
        print(
            f"  {label} {name}: p50 {medians[name]:.1f} ms, p95 {p95:.1f} ms over {REQUESTS}"
            f" requests at {total:,}"
            f" assessments (bare queries {floor:.1f} ms, {p95 / floor:.1f}x)"
            f"  {'OK' if within else 'OVER the 50 ms budget'}"
        )
    return ok


def run() -> bool:
    """Both databases; True when every figure is within the budget."""
    results = []
    if KEEP:
        kept = Path(KEEP)
        kept.mkdir(parents=True, exist_ok=True)
        results.append(_one("SQLite", f"sqlite:///{kept / 'advisor.db'}", kept / "sqlite.json"))
    else:
        with tempfile.TemporaryDirectory(prefix="advisor-dashboard-") as workdir:
            results.append(_one("SQLite", f"sqlite:///{Path(workdir) / 'advisor.db'}"))
    with _postgres() as url:
        if url is None:
            print("  PostgreSQL: not run (set BENCH_POSTGRES_URL or TEST_POSTGRES_URL)")
            record(
                Row(
                    "dashboard",
                    "PostgreSQL",
                    0.0,
                    "",
                    note="not run: BENCH_POSTGRES_URL / TEST_POSTGRES_URL unset",
                )
            )
        else:
            note = Path(KEEP) / "postgresql.json" if KEEP else None
            results.append(_one("PostgreSQL", url, note))
    return all(results)


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
