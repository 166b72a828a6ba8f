"""Jobs (issue 10): the local runner's hand-off latency, and the job page's poll under load.

Hand-off: `POST /api/jobs` to a real `advisor serve`-like server (uvicorn, one worker) with a
real `advisor worker` beside it, then the row polled every 5 ms until the worker has claimed
it (`running`); each job is then cancelled so the next round starts idle. The demo model is
built first (the train extra is needed to run the worker's command at all).

Poll: the request the job page's live part sends every 2 s (`GET /jobs/{id}` with htmx's
headers) for a running job with a 40-line log and a 200-point loss curve, under 32 wrk
connections, against the bare floor: a bare async handler reading the same row by primary
key with sqlite3, the log's tail, and rendering the same `live` block with a context built
once. The ratio is ours / bare in requests per second.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.report import Row, record
from bench.web_bench import ROOT, _best, _get_script, _serve, _wrk
from tests.serving import free_port

HANDOFF_ROUNDS = int(os.environ.get("BENCH_HANDOFF_ROUNDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
# The poll's ratio is reported, not judged: issue 10 asks for the figure, and no budget was
# set for it (the step page's 0.6x took lean transactions served on the loop, ADR 0001).
HANDOFF_BUDGET_S = 1.0  # submit to running, median
POLL_HEADERS = {"HX-Request": "true", "HX-Target": "job-live"}
LIVE_BLOCK = "live"


def _running_job(db_path: Path, data_dir: Path) -> str:
    """A `running` job row with a log and a loss curve, as the poll finds one mid-run."""
    from app.models import new_token

    job_id = new_token()
    folder = data_dir / "jobs" / job_id
    folder.mkdir(parents=True)
    lines = [f"{{'loss': '{3 - i / 100:.3f}', 'epoch': '{i / 200:.2f}'}}" for i in range(200)]
    (folder / "job.log").write_text("\n".join(lines[-40:]) + "\n")
    loss = [[i + 1, 3 - i / 100] for i in range(200)]
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    with sqlite3.connect(db_path) as connection:
        connection.execute(
            "INSERT INTO jobs (id, recipe, params, runner, external_id, status, created_at,"
            " started_at, heartbeat_at, artifacts, metrics, worker, cancel_requested)"
            " VALUES (?, 'sft-lora', ?, 'local', ?, 'running', ?, ?, ?, '[]', ?, ?, 0)",
            (
                job_id,
                json.dumps({"base_model": "demo/model", "dataset": "data/sft.jsonl"}),
                job_id,
                now,
                now,
                now,
                json.dumps({"loss": loss}),
                "bench:1:none",
            ),
        )
    return job_id


def create_bare_poll_app() -> Any:
    """The bare floor of the poll: row by primary key, log tail, the live block rendered."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse, Response
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from jinja2_fragments import render_block

    from app.models import Job
    from app.web.presenters.jobs import job_context

    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    connection = sqlite3.connect(os.environ["BARE_DB"], check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    jobs_dir = Path(os.environ["BARE_JOBS_DIR"])
    job_id = os.environ["BARE_JOB_ID"]
    row = connection.execute("SELECT params, metrics FROM jobs WHERE id = ?", (job_id,)).fetchone()
    fixed = Job(
        id=job_id,
        recipe="sft-lora",
        params=json.loads(row[0]),
        runner="local",
        external_id=job_id,
        status="running",
        created_at=None,
        started_at=None,
        artifacts=[],
        metrics=json.loads(row[1]),
        cancel_requested=False,
    )
    context = job_context(fixed, "")
    app = FastAPI()

    @app.get("/jobs/{job_id}")
    async def poll(job_id: str) -> Response:
        found = connection.execute(
            "SELECT status, metrics, started_at FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        if found is None:
            return Response(status_code=404)
        with (jobs_dir / job_id / "job.log").open("rb") as stream:
            tail = stream.read()[-262144:].decode("utf-8", errors="replace").splitlines()[-40:]
        html = render_block(
            env,
            "jobs/job.html",
            LIVE_BLOCK,
            csrf_field="csrf_token",
            csrf_token="x" * 64,
            **{**context, "log_tail": "\n".join(tail)},
        )
        return HTMLResponse(html)

    return app


def _handoff(base_url: str, db_path: Path, params: dict[str, Any]) -> list[float]:
    """Seconds from POST /api/jobs to the worker's claim, per round."""
    figures = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for _ in range(HANDOFF_ROUNDS):
            started = time.perf_counter()
            made = client.post("/api/jobs", json={"recipe": "sft-lora", "params": params})
            assert made.status_code == 201, made.text
            job_id = made.json()["id"]
            with sqlite3.connect(db_path) as connection:
                while True:
                    status = connection.execute(
                        "SELECT status FROM jobs WHERE id = ?", (job_id,)
                    ).fetchone()[0]
                    if status != "queued":
                        break
                    if time.perf_counter() - started > 30:
                        raise RuntimeError("the worker never claimed the job")
                    time.sleep(0.005)
            figures.append(time.perf_counter() - started)
            client.post(f"/api/jobs/{job_id}/cancel")
            deadline = time.monotonic() + 40
            while client.get(f"/api/jobs/{job_id}").json()["status"] == "running":
                if time.monotonic() > deadline:
                    raise RuntimeError("a cancelled bench job kept running")
                time.sleep(0.1)
    return figures


def run() -> bool:
    """Both figures; True when they are within budget."""
    if shutil.which("wrk") is None:
        print("jobs bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return False
    from app.jobs.demo import build_demo_assets, missing_training_modules

    missing = missing_training_modules()
    if missing:
        print(f"jobs bench: the train extra is missing {missing}", file=sys.stderr)
        return False
    workdir = Path(tempfile.mkdtemp(prefix="advisor-jobs-bench-"))
    db_path, data_dir = workdir / "advisor.db", workdir / "data"
    env = {"DATABASE_URL": f"sqlite:///{db_path}", "DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    assets = build_demo_assets(data_dir / "demo")
    params = {
        "base_model": assets["base_model"],
        "dataset": assets["dataset"],
        "gpu": "cpu",
        "max_steps": 1,
        "params_b": 0.001,
    }
    port = free_port()
    server = _serve("app.main:create_app", port, env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env={**os.environ, **env, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare = None
    try:
        time.sleep(2)  # the worker's first recovery pass and poll
        handoff = _handoff(f"http://127.0.0.1:{port}", db_path, params)
        worker.terminate()
        worker.wait(timeout=60)
        job_id = _running_job(db_path, data_dir)
        bare_port = free_port()
        bare = _serve(
            "bench.jobs_bench:create_bare_poll_app",
            bare_port,
            {
                "BARE_DB": str(db_path),
                "BARE_JOBS_DIR": str(data_dir / "jobs"),
                "BARE_JOB_ID": job_id,
            },
        )
        ours_url = f"http://127.0.0.1:{port}/jobs/{job_id}"
        bare_url = f"http://127.0.0.1:{bare_port}/jobs/{job_id}"
        script = _get_script(POLL_HEADERS)
        check = httpx.get(ours_url, headers=POLL_HEADERS)
        assert check.status_code == 200 and 'id="job-live"' in check.text, check.text[:300]
        _wrk(ours_url, script, seconds=2)
        _wrk(bare_url, script, seconds=2)
        ours_runs, bare_runs = [], []
        for _ in range(ROUNDS):
            ours_runs.append(_wrk(ours_url, script))
            bare_runs.append(_wrk(bare_url, script))
        ours, floor = _best(ours_runs), _best(bare_runs)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        server.terminate()
        server.wait()
        if bare is not None:
            bare.terminate()
            bare.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    median = statistics.median(handoff)
    handoff_ok = median <= HANDOFF_BUDGET_S
    print(
        f"  local hand-off (POST /api/jobs to running): median {median * 1000:.0f} ms, worst"
        f" {max(handoff) * 1000:.0f} ms over {len(handoff)} jobs (budget"
        f" {HANDOFF_BUDGET_S * 1000:.0f} ms)  {'OK' if handoff_ok else 'OVER BUDGET'}"
    )
    ratio = ours.requests_per_s / floor.requests_per_s
    record(
        Row(
            "jobs",
            f"local hand-off, POST /api/jobs to running, median of {len(handoff)}",
            median * 1000,
            "ms",
            budget=f"<= {HANDOFF_BUDGET_S * 1000:.0f} ms",
            ok=handoff_ok,
            note=f"worst {max(handoff) * 1000:.0f} ms",
        ),
        Row(
            "jobs",
            "job page poll (htmx live block), 32 connections",
            ours.requests_per_s,
            "req/s",
            floor=floor.requests_per_s,
            ratio=ratio,
            budget="no budget; 0 errors",
            ok=None if ours.errors == floor.errors == 0 else False,
            note=f"p99 {ours.p99_ms:.1f} ms (bare {floor.p99_ms:.1f} ms)",
        ),
    )
    # Errors on either side void the comparison.
    poll_ok = ours.errors == floor.errors == 0
    print(
        f"  job page poll {ours.requests_per_s:8.0f} req/s vs bare {floor.requests_per_s:8.0f}"
        f" = {ratio:.2f}x (reported, no budget); p99 {ours.p99_ms:.1f} ms vs bare"
        f" {floor.p99_ms:.1f} ms; errors {ours.errors} (bare {floor.errors})"
        f"  {'OK' if poll_ok else 'ERRORS'}"
    )
    return handoff_ok and poll_ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
