"""One table of every `make bench` figure, and the Markdown report written from it.

Each bench module keeps printing its own lines and also `record()`s its figures as `Row`s;
`python -m bench` takes them area by area (`take()`) and writes `docs/benchmarks.md` with the
machine the figures were measured on (`machine()`), so a figure is never read without it.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    """One figure: what was measured, its value, the floor or baseline measured beside it in
    the same run (where one applies), their ratio, the budget it is held to and the verdict
    (None when the figure is reported without a budget)."""

    area: str
    what: str
    value: float
    unit: str
    floor: float | None = None
    ratio: float | None = None
    budget: str = ""
    ok: bool | None = None
    note: str = ""


_recorded: list[Row] = []


def record(*rows: Row) -> None:
    """Keep figures for the report (a bench module calls this beside its print)."""
    _recorded.extend(rows)


def take() -> list[Row]:
    """The figures recorded since the last call, and forget them."""
    rows = list(_recorded)
    _recorded.clear()
    return rows


def ratio(ours: float, floor: float) -> float | None:
    """ours / floor, or None when the floor is zero (nothing to compare with)."""
    return ours / floor if floor else None


@dataclass(frozen=True)
class Machine:
    """What the figures ran on."""

    cpu: str
    cores: int
    ram_gib: float
    os: str
    python: str
    sqlite: str
    postgresql: str
    commit: str


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _postgresql(url: str | None) -> str:
    """The server's version string, or why there is none."""
    if not url:
        return "not used (BENCH_POSTGRES_URL / TEST_POSTGRES_URL unset)"
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())
    except Exception as exc:  # the report still gets written; the reason is shown instead
        return f"unreachable ({type(exc).__name__})"
    finally:
        engine.dispose()


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    # Modified tracked files make the figures those of an uncommitted tree: say so.
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head} (with uncommitted changes)" if dirty else head


def machine() -> Machine:
    """Read the machine this process runs on."""
    postgres_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        ram_gib=_ram_gib(),
        os=f"{platform.system()} {platform.release()} ({platform.platform(terse=True)})",
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        postgresql=_postgresql(postgres_url),
        commit=_commit(),
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value == int(value) and abs(value) >= 100:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def _verdict(ok: bool | None) -> str:
    return {True: "OK", False: "**MISSED**", None: "reported"}[ok]


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: Iterable[Row]) -> str:
    """The figures as a Markdown table."""
    lines = [
        "| area | figure | value | unit | floor | ratio | budget | verdict | note |",
        "|---|---|--:|---|--:|--:|---|---|---|",
    ]
    for row in rows:
        cells = [
            row.area,
            row.what,
            _number(row.value),
            row.unit,
            _number(row.floor),
            "" if row.ratio is None else f"{row.ratio:.2f}x",
            row.budget,
            _verdict(row.ok),
            row.note,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def plain_table(rows: Sequence[Row]) -> str:
    """The figures as fixed-width text, for the terminal."""
    head = ("area", "figure", "value", "unit", "floor", "ratio", "budget", "verdict")
    body = [
        (
            r.area,
            r.what,
            _number(r.value),
            r.unit,
            _number(r.floor),
            "" if r.ratio is None else f"{r.ratio:.2f}x",
            r.budget,
            _verdict(r.ok).strip("*"),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (head, *body)
    )


def markdown(
    rows: Sequence[Row],
    box: Machine,
    *,
    areas: Sequence[str],
    load_before: str,
    load_after: str,
    started: datetime,
    finished: datetime,
    settings: dict[str, str],
    preface: str = "",
) -> str:
    """The whole report: verdict, table, machine, how to reproduce."""
    missed = [r for r in rows if r.ok is False]
    verdict = (
        f"{len(missed)} of {len(rows)} figures missed their budget."
        if missed
        else f"All {len(rows)} figures within budget (or reported without one)."
    )
    knobs = ", ".join(f"`{k}={v}`" for k, v in sorted(settings.items())) or "defaults"
    parts = [
        "# Benchmarks",
        "",
        *([preface, ""] if preface else []),
        f"Written by `python -m bench` on {finished:%Y-%m-%d %H:%M} UTC"
        f" ({(finished - started).total_seconds() / 60:.1f} min), commit `{box.commit}`."
        f" Areas: {', '.join(areas)}. {verdict}",
        "",
        "Ratios are ours / the floor measured in the same run (a bare FastAPI app, the bare"
        " queries, or the budget itself for the engine): for a rate higher is better, for a"
        " latency lower is better. A verdict of *reported* means the figure has no budget.",
        "",
        table(rows),
        "",
        "## Machine",
        "",
        f"- CPU: {box.cpu}, {box.cores} cores",
        f"- RAM: {box.ram_gib:.1f} GiB",
        f"- OS: {box.os}",
        f"- Python {box.python}, SQLite {box.sqlite}, PostgreSQL {box.postgresql}",
        f"- Load average (1, 5, 15 min): {load_before} before, {load_after} after",
        f"- Settings: {knobs}",
        "",
        "## Reproduce",
        "",
        "`make bench` runs every area and rewrites this file (needs `wrk`; PostgreSQL figures"
        " need `TEST_POSTGRES_URL`). `BENCH_ONLY=web,load make bench` reruns some areas"
        f" (of: {', '.join(AREAS)}) and prints their table; it writes a file only when"
        " `BENCH_REPORT=path` is set, so a partial run never replaces the full report.",
        "",
    ]
    return "\n".join(parts)


AREAS = ("engine", "cli", "web", "concurrency", "jobs", "ray", "dashboard", "load", "fuzz")
SETTINGS = (
    "BENCH_CLI_PROFILES",
    "BENCH_SECONDS",
    "BENCH_ROUNDS",
    "BENCH_BURST",
    "BENCH_HANDOFF_ROUNDS",
    "BENCH_DASHBOARD_ASSESSMENTS",
    "BENCH_DASHBOARD_REQUESTS",
    "BENCH_LOAD_USERS",
    "BENCH_LOAD_SECONDS",
    "BENCH_FUZZ_EXAMPLES",
    "BENCH_ENGINE_PROFILES",
)


def settings() -> dict[str, str]:
    """The BENCH_* knobs set in the environment (a report from shortened runs says so)."""
    return {name: os.environ[name] for name in SETTINGS if name in os.environ}


def now() -> datetime:
    """The current time, UTC."""
    return datetime.now(UTC)
