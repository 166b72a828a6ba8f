"""Shared by the job tests: demo assets built once, workers as real `advisor worker` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.jobs.demo import build_demo_assets, missing_training_modules
from app.jobs.runner import FINAL_STATUSES
from app.settings import PROJECT_ROOT
from tests.support import require

# The trainer must never reach for the network in tests.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "CUDA_VISIBLE_DEVICES": "",
}
JOB_TIMEOUT_S = 240.0


def demo_assets(data_dir: Path) -> dict[str, str]:
    """The demo model and datasets under `data_dir/demo` (the training stack is required)."""
    missing = missing_training_modules()
    require(not missing, f"the training extra is missing {missing} (pip install -e '.[train]')")
    return build_demo_assets(data_dir / "demo")


def demo_params(
    assets: dict[str, str], *, preference: bool = False, **extra: Any
) -> dict[str, Any]:
    """Parameters that train the demo model for a few steps on CPU."""
    return {
        "base_model": assets["base_model"],
        "dataset": assets["preference_dataset" if preference else "dataset"],
        "gpu": "cpu",
        "max_steps": 3,
        "max_length": 128,
        **extra,
    }


def start_worker(database_url: str, data_dir: Path, **env: str) -> subprocess.Popen[bytes]:
    """`advisor worker` in a process of its own, as an operator would run it."""
    environment = {
        **os.environ,
        **OFFLINE_ENV,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(data_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        env=environment,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL; always reaped (a zombie would look alive)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(
    read: Callable[[], dict[str, Any]],
    done: Callable[[dict[str, Any]], bool] = lambda job: job["status"] in FINAL_STATUSES,
    timeout_s: float = JOB_TIMEOUT_S,
) -> dict[str, Any]:
    """Poll a job until `done` (by default: final); fail with its last state on time-out."""
    deadline = time.monotonic() + timeout_s
    job = read()
    while not done(job):
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout_s} s: {job}"
        time.sleep(0.25)
        job = read()
    return job


def process_exists(pid: int) -> bool:
    """Whether a process with this pid is alive (zombies count as gone)."""
    from app.jobs.local import pid_alive

    return pid_alive(pid)
