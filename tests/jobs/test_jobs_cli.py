"""`advisor demo-assets` and `advisor jobs submit|show|logs|cancel` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.settings import PROJECT_ROOT


def _advisor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_assets_then_a_job_through_the_cli(
    sqlite_url: str, jobs_data_dir: Path, assets: dict[str, str]
) -> None:
    env = {"DATABASE_URL": sqlite_url, "DATA_DIR": str(jobs_data_dir)}
    built = _advisor("demo-assets", env=env)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout) == assets  # the same paths, reused under DATA_DIR/demo
    made = _advisor(
        "jobs",
        "submit",
        "sft-lora",
        "--runner",
        "local",
        "--set",
        f"base_model={assets['base_model']}",
        "--set",
        f"dataset={assets['dataset']}",
        "--set",
        "gpu=cpu",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    job = json.loads(made.stdout)
    assert job["status"] == "queued" and job["recipe"] == "sft-lora"
    shown = json.loads(_advisor("jobs", "show", job["id"], env=env).stdout)
    assert shown["id"] == job["id"]
    assert _advisor("jobs", "logs", job["id"], env=env).returncode == 0
    cancelled = json.loads(_advisor("jobs", "cancel", job["id"], env=env).stdout)
    assert cancelled["status"] == "cancelled"
    refused = _advisor("jobs", "submit", "prompt-eval", env=env)
    assert refused.returncode == 2 and "recipe" in refused.stderr and "playbook" in refused.stderr
    missing = _advisor("jobs", "show", "no-such-job", env=env)
    assert missing.returncode == 2 and "no job" in missing.stderr


def _children(pid: int) -> list[int]:
    """The pids whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_serve_runs_one_worker_and_takes_it_along(sqlite_url: str, tmp_path: Path) -> None:
    """`advisor serve` starts one worker process; SIGTERM to the server ends the worker too
    (uvicorn re-raises the signal, so the worker watches its parent); --no-worker starts none."""
    import signal
    import time

    from app.jobs.local import pid_alive
    from tests.serving import free_port

    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "DATABASE_URL": sqlite_url,
        "DATA_DIR": str(tmp_path / "data"),
    }
    for flag, expected in (("--worker", 1), ("--no-worker", 0)):
        command = [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port()), flag]
        server = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 20
            while len(_children(server.pid)) < expected and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)
            workers = _children(server.pid)
            assert len(workers) == expected, workers
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            deadline = time.monotonic() + 10
            while any(pid_alive(w) for w in workers) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not any(pid_alive(w) for w in workers), "the worker outlived its server"
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
