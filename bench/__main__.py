"""`make bench`: the engine, `advisor recommend --batch`, the web pair, concurrency bursts, and
the jobs' hand-off latency (local runner and Ray) with the job page's poll, and the team
dashboard at 100,000 assessments."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import (
    concurrency_bench,
    dashboard_bench,
    engine_bench,
    jobs_bench,
    ray_handoff,
    web_bench,
)

CLI_PROFILES = int(os.environ.get("BENCH_CLI_PROFILES", "200000"))


def cli_batch() -> bool:
    """Time `advisor recommend --batch` on a file of varied profiles, start-up included."""
    lines = engine_bench.make_lines(CLI_PROFILES, seed=7)
    with tempfile.TemporaryDirectory() as workdir:
        source = Path(workdir) / "profiles.jsonl"
        source.write_text("\n".join(lines) + "\n")
        advisor = Path(sys.executable).with_name("advisor")
        best = float("inf")
        for _ in range(3):  # best of three: the host's noise only ever slows a run down
            start = time.perf_counter()
            with open(os.devnull, "w") as sink:
                subprocess.run(
                    [str(advisor), "recommend", "--batch", str(source)], stdout=sink, check=True
                )
            best = min(best, time.perf_counter() - start)
    rate = CLI_PROFILES / best
    ok = rate >= engine_bench.BUDGET
    print(
        f"advisor recommend --batch: {CLI_PROFILES:,} profiles in {best:.2f} s = {rate:,.0f}/s"
        f" ({rate / engine_bench.BUDGET:.2f}x the {engine_bench.BUDGET:,}/s budget, process start"
        f" included)  {'OK' if ok else 'BELOW BUDGET'}"
    )
    return ok


def main() -> int:
    """Run every benchmark; exit 1 when any budget is missed."""
    sys.argv = [sys.argv[0]]
    print("== engine, in process (for reference; the budget is judged on the CLI below)")
    engine_bench.main()
    print("== CLI batch")
    results = [cli_batch()]
    print("== web")
    results.append(web_bench.run())
    print("== concurrency: bursts against `advisor serve` (issue 8)")
    results.append(concurrency_bench.run())
    print("== jobs: local hand-off and the job page's poll (issue 10)")
    results.append(jobs_bench.run())
    print("== jobs: Ray hand-off on a real local head (issue 10)")
    results.append(ray_handoff.run())
    print("== team dashboard at 100,000 assessments, SQLite and PostgreSQL (issue 13)")
    results.append(dashboard_bench.run())
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
