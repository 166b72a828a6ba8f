"""Ray hand-off latency: from `RayRunner.submit` to the head reporting the job `running`.

Against a real local head (tests/jobs/ray_head.py, token auth on), with a one-file job folder:
each submission zips and uploads its folder, the head's job agent starts a supervisor actor,
unpacks the package and starts the entrypoint. Call `run()` from `make bench`, or
`measure_ray_handoff(runner, rounds)` against a head you already have.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.jobs.ray import RayRunner
from app.jobs.runner import FINAL_STATUSES, JobSpec
from bench.report import Row, record
from tests.jobs.ray_head import HeadUnavailable, start_head

ROUNDS = 5
POLL_S = 0.02  # the figure's resolution: one status GET every 20 ms


@dataclass(frozen=True)
class HandoffFigures:
    """Seconds per round: the submit call itself, submit to `running`, submit to `succeeded`."""

    submit_call: list[float]
    to_running: list[float]
    to_succeeded: list[float]

    def summary(self) -> str:
        """One line per figure: median and worst over the rounds, the first (cold) round apart."""

        def line(name: str, values: list[float]) -> str:
            warm = values[1:] or values
            return (
                f"  {name}: first {values[0] * 1000:.0f} ms, then median "
                f"{statistics.median(warm) * 1000:.0f} ms, worst {max(warm) * 1000:.0f} ms"
            )

        return "\n".join(
            [
                line("submit call (zip, upload, POST)", self.submit_call),
                line("submit -> running", self.to_running),
                line("submit -> succeeded (1 s job)", self.to_succeeded),
            ]
        )


def measure_ray_handoff(runner: RayRunner, rounds: int = ROUNDS) -> HandoffFigures:
    """Submit a job that sleeps 1 s `rounds` times, one after another, timing each step."""
    submit_call, to_running, to_succeeded = [], [], []
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        (folder / "job.py").write_text("import time\nprint('started', flush=True)\ntime.sleep(1)\n")
        for index in range(rounds):
            spec = JobSpec(job_id=f"bench{index}", folder=folder, argv=("python", "job.py"))
            started = time.perf_counter()
            external_id = runner.submit(spec)
            submit_call.append(time.perf_counter() - started)
            running_at = None
            while True:
                state = runner.status(external_id)
                now = time.perf_counter()
                if state.status == "running" and running_at is None:
                    running_at = now
                if state.status in FINAL_STATUSES:
                    break
                time.sleep(POLL_S)
            if state.status != "succeeded":
                raise RuntimeError(f"bench job {external_id} ended {state}")
            # A job too quick to be seen running counts as running when it ended.
            to_running.append((running_at or now) - started)
            to_succeeded.append(now - started)
    return HandoffFigures(submit_call, to_running, to_succeeded)


def run(rounds: int = ROUNDS) -> bool:
    """Start a local head, measure, stop it; print the figures. False if the head did not start."""
    try:
        head = start_head()
    except HeadUnavailable as exc:
        print(f"Ray hand-off: not measured: {exc}")
        record(Row("ray", "hand-off", 0.0, "", ok=False, note=f"not measured: {exc}"))
        return False
    try:
        figures = measure_ray_handoff(RayRunner(head.address, token=head.token), rounds)
    finally:
        left = head.stop()
    print(f"Ray hand-off over {rounds} jobs on a local head (1 CPU, token auth):")
    for name, values in (
        ("submit call (zip, upload, POST)", figures.submit_call),
        ("submit to running", figures.to_running),
        ("submit to succeeded (1 s job)", figures.to_succeeded),
    ):
        warm = values[1:] or values
        record(
            Row(
                "ray",
                f"{name}, median after the first",
                statistics.median(warm) * 1000,
                "ms",
                ok=None if not left else False,
                budget="no budget; no process left behind",
                note=f"first (cold) {values[0] * 1000:.0f} ms, worst {max(warm) * 1000:.0f} ms",
            )
        )
    print(figures.summary())
    if left:
        print(f"  Ray processes left behind: {sorted(left)}")
    return not left


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
