"""`make bench`'s report (bench/report.py, bench/__main__.py): one table, the machine, how to
reproduce; a partial run never replaces the full report."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench import report
from bench.report import Row

ROWS = [
    Row("web", "step page, 32 connections", 2150.4, "req/s", 3000.0, 0.7168, ">= 0.6x bare", True),
    Row("dashboard", "SQLite | HTML first page", 61.2, "ms", 8.0, 7.65, "< 50 ms", False),
    Row("jobs", "job page poll", 245.0, "req/s", 1164.0, 0.21, "", None, "p99 80 ms"),
]
BOX = report.Machine(
    cpu="Test CPU 9000",
    cores=2,
    ram_gib=7.8,
    os="Linux 6.1",
    python="3.11.2",
    sqlite="3.40.1",
    postgresql="15.5",
    commit="abc123def456",
)


def _markdown(rows: list[Row]) -> str:
    return report.markdown(
        rows,
        BOX,
        areas=["web", "dashboard", "jobs"],
        load_before="0.50 0.40 0.30",
        load_after="1.90 0.80 0.40",
        started=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
        finished=datetime(2026, 11, 30, 10, 30, tzinfo=UTC),
        settings={"BENCH_SECONDS": "1"},
    )


def _table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def test_every_row_is_a_table_line_with_its_floor_ratio_and_verdict() -> None:
    text = _markdown(ROWS)
    lines = _table_lines(text)
    assert len(lines) == 2 + len(ROWS)
    columns = lines[0].count("|")
    # A `|` in a figure's name is escaped, so every line has the header's columns.
    assert all(re.sub(r"\\\|", "", line).count("|") == columns for line in lines)
    web, dashboard, jobs = lines[2:]
    assert "2,150" in web and "3,000" in web and "0.72x" in web and "| OK |" in web
    assert "SQLite \\| HTML first page" in dashboard and "**MISSED**" in dashboard
    assert "7.65x" in dashboard
    assert "| reported |" in jobs and "p99 80 ms" in jobs
    assert "1 of 3 figures missed their budget" in text


def test_the_report_names_the_machine_load_commit_and_how_to_reproduce() -> None:
    text = _markdown(ROWS)
    assert "Test CPU 9000, 2 cores" in text
    assert "RAM: 7.8 GiB" in text
    assert "Python 3.11.2, SQLite 3.40.1, PostgreSQL 15.5" in text
    assert "0.50 0.40 0.30 before, 1.90 0.80 0.40 after" in text
    assert "commit `abc123def456`" in text
    assert "2026-11-30 10:30 UTC (30.0 min)" in text
    assert "`BENCH_SECONDS=1`" in text
    assert "`make bench`" in text and "BENCH_ONLY" in text


def test_all_within_budget_says_so() -> None:
    assert "All 1 figures within budget" in _markdown([ROWS[0]])


def test_the_machine_is_read_from_this_one() -> None:
    box = report.machine()
    assert box.cores >= 1 and box.ram_gib > 0 and box.cpu
    assert box.sqlite.count(".") == 2 and box.python.count(".") == 2
    assert box.commit != "unknown"


def test_an_unknown_area_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown bench area"):
        bench_main.main(["--only", "engine,nosuch"])


def test_a_short_engine_run_writes_its_rows_and_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real engine area on a tiny budget, through the report writer."""
    monkeypatch.setenv("BENCH_ENGINE_PROFILES", "1000")
    target = tmp_path / "benchmarks.md"
    status = bench_main.main(["--only", "engine", "--report", str(target)])
    text = target.read_text()
    rows = _table_lines(text)[2:]
    assert len(rows) == 3, text
    assert all(row.startswith("| engine |") for row in rows)
    assert "profiles/s" in rows[0] and "us" in rows[2]
    assert status == (0 if "| OK |" in rows[0] else 1)
    assert "`BENCH_ENGINE_PROFILES=1000`" in text and "## Machine" in text
    assert report.take() == []  # nothing left over for the next area


def test_a_crashing_area_is_a_failed_row_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> bool:
        raise RuntimeError("wrk vanished")

    def fine() -> bool:
        report.record(Row("cli", "measured", 1.0, "s", ok=True))
        return True

    monkeypatch.setattr(
        bench_main, "_areas", lambda: {"web": ("web", broken), "cli": ("cli", fine)}
    )
    target = tmp_path / "partial.md"
    assert bench_main.main(["--only", "web,cli", "--report", str(target)]) == 1
    rows = _table_lines(target.read_text())[2:]
    assert rows[0].startswith("| cli | measured")  # areas keep the report's order
    assert rows[1].startswith("| web | did not complete") and "wrk vanished" in rows[1]


def test_a_partial_run_writes_no_file_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(bench_main, "_areas", lambda: {"cli": ("cli", lambda: True)})
    assert bench_main.main(["--only", "cli"]) == 0
    assert not (tmp_path / "docs" / "benchmarks.md").exists()
