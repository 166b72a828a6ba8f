"""The Ray runner against a real local Ray head (token auth on): submit, status, logs, stop."""

from __future__ import annotations

import io
import os
import re
import socket
import time
import zipfile
from pathlib import Path

import pytest

from app.jobs.ray import RayRequestError, RayRunner, normalize_address, package_folder
from app.jobs.runner import FINAL_STATUSES, JobSpec, RunnerState, RunnerUnreachable
from tests.jobs.ray_head import RayHead, free_port

OFFLINE_ENV = (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("HF_DATASETS_OFFLINE", "1"),
    ("WANDB_DISABLED", "true"),
    ("TOKENIZERS_PARALLELISM", "false"),
    ("CUDA_VISIBLE_DEVICES", ""),
)


def wait_until(
    runner: RayRunner, external_id: str, wanted: set[str], timeout: float
) -> tuple[RunnerState, list[str]]:
    """Poll until the status is one of `wanted` (or final); returns it and the statuses seen."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        state = runner.status(external_id)
        if not seen or seen[-1] != state.status:
            seen.append(state.status)
        if state.status in wanted or state.status in FINAL_STATUSES:
            return state, seen
        if time.monotonic() > deadline:
            raise AssertionError(f"{external_id} still {state.status} after {timeout}s: {seen}")
        time.sleep(0.2)


# --- without a head ---------------------------------------------------------------------------


def test_package_is_content_addressed_and_relative(tmp_path: Path) -> None:
    """Same files, same package name (Ray uploads it once); paths are relative to the folder."""
    for name in ("a", "b"):
        (tmp_path / name / "data").mkdir(parents=True)
        (tmp_path / name / "config.yaml").write_text("x: 1\n")
        (tmp_path / name / "data" / "train.jsonl").write_text('{"a": 1}\n')
    first, data = package_folder(tmp_path / "a")
    second, _ = package_folder(tmp_path / "b")
    assert first == second and first.startswith("_ray_pkg_") and first.endswith(".zip")
    (tmp_path / "b" / "config.yaml").write_text("x: 2\n")
    assert package_folder(tmp_path / "b")[0] != first
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == ["config.yaml", "data/train.jsonl"]
    # Each submission of the same folder is a package (and a directory on the node) of its own.
    one, marked = package_folder(tmp_path / "a", submission_id="advisor-a-1")
    assert one != first and one != package_folder(tmp_path / "a", submission_id="advisor-a-2")[0]
    assert zipfile.ZipFile(io.BytesIO(marked)).read(".advisor-submission") == b"advisor-a-1\n"


def test_address_forms() -> None:
    """A bare host:port means http; a Ray Client address is refused with the form wanted."""
    assert normalize_address("127.0.0.1:8265/") == "http://127.0.0.1:8265"
    assert normalize_address("https://ray.internal:443") == "https://ray.internal:443"
    with pytest.raises(ValueError, match="dashboard's Jobs API address"):
        normalize_address("ray://127.0.0.1:10001")


def test_nothing_listening_is_runner_unreachable(tmp_path: Path) -> None:
    """Every call names the address and the reason; nothing else is raised."""
    (tmp_path / "run.py").write_text("print(1)\n")
    address = f"http://127.0.0.1:{free_port()}"
    runner = RayRunner(address, token="t")
    spec = JobSpec(job_id="down", folder=tmp_path, argv=("python", "run.py"))
    calls = [
        lambda: runner.submit(spec),
        lambda: runner.status("x"),
        lambda: runner.logs("x"),
        lambda: runner.cancel("x"),
    ]
    for call in calls:
        with pytest.raises(RunnerUnreachable, match=f"^runner unreachable: {re.escape(address)}: "):
            call()


def test_a_head_that_never_answers_times_out_as_unreachable(tmp_path: Path) -> None:
    """A socket that accepts connections but never answers: unreachable after the timeout."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        address = f"http://127.0.0.1:{server.getsockname()[1]}"
        runner = RayRunner(address, timeout=0.5, connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(RunnerUnreachable, match=f"^runner unreachable: {re.escape(address)}: "):
            runner.status("x")
        assert time.monotonic() - started < 5


# --- against a real head ------------------------------------------------------------------------


@pytest.fixture
def head(ray_head: RayHead) -> RayHead:
    """The session's head (tests/jobs/conftest.py): one for every module."""
    return ray_head


@pytest.fixture
def runner(head: RayHead) -> RayRunner:
    """A runner with the head's token."""
    return RayRunner(head.address, token=head.token)


SCRIPT = """\
import json, os, sys, time
print("argv", json.dumps(sys.argv[1:]))
print("data", open("data/input.txt").read().strip())
print("env", os.environ.get("ADVISOR_PROBE"))
print("cwd", os.getcwd())
time.sleep(1.0)
print("done", flush=True)
sys.exit(int(os.environ.get("EXIT_CODE", "0")))
"""


def script_folder(root: Path) -> Path:
    """A job folder with a script reading a file by relative path."""
    (root / "data").mkdir(parents=True)
    (root / "data" / "input.txt").write_text("hello from the job folder\n")
    (root / "run.py").write_text(SCRIPT)
    return root


def test_submit_runs_the_folder_and_reports_logs(runner: RayRunner, tmp_path: Path) -> None:
    """The folder arrives as the working dir, argv keeps its words, env vars reach the job."""
    spec = JobSpec(
        job_id="tiny",
        folder=script_folder(tmp_path),
        argv=("python", "run.py", "two words", "it's"),
        env=(("ADVISOR_PROBE", "probe-42"),),
    )
    external_id = runner.submit(spec)
    again = runner.submit(spec)  # the same folder again: it must not share the first's directory
    assert external_id.startswith("advisor-tiny-") and again != external_id
    state, seen = wait_until(runner, external_id, set(), timeout=90)
    assert state == RunnerState(status="succeeded", exit_code=0), (state, seen)
    assert "running" in seen
    assert wait_until(runner, again, set(), timeout=90)[0].status == "succeeded"
    logs = runner.logs(external_id)
    cwd = _line(logs, "cwd")
    assert cwd != _line(runner.logs(again), "cwd")
    assert not cwd.startswith(str(tmp_path))  # the head ran an unpacked copy, not our folder
    assert 'argv ["two words", "it\'s"]' in logs
    assert "data hello from the job folder" in logs
    assert "env probe-42" in logs
    assert runner.logs(external_id, tail=1) == "done\n"
    assert runner.logs(external_id, tail=0) == ""


def test_a_failing_entrypoint_is_failed_with_its_exit_code(
    runner: RayRunner, tmp_path: Path
) -> None:
    """A non-zero exit is `failed`, with the exit code and Ray's message."""
    spec = JobSpec(
        job_id="fails",
        folder=script_folder(tmp_path),
        argv=("python", "run.py"),
        env=(("EXIT_CODE", "3"),),
    )
    external_id = runner.submit(spec)
    state, _ = wait_until(runner, external_id, set(), timeout=90)
    assert state.status == "failed" and state.exit_code == 3
    assert state.error and "exit code 3" in state.error


def test_stop_cancels_and_ends_the_job_and_its_children(runner: RayRunner, tmp_path: Path) -> None:
    """A long job is `cancelled` within 30 s of the stop and its processes are gone."""
    (tmp_path / "long.py").write_text(
        "import os, subprocess, time\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        "print('pids', os.getpid(), child.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    external_id = runner.submit(JobSpec(job_id="long", folder=tmp_path, argv=("python", "long.py")))
    wait_until(runner, external_id, {"running"}, timeout=60)
    deadline = time.monotonic() + 30
    while "pids" not in (logs := runner.logs(external_id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    pids = [int(p) for p in logs.split("pids", 1)[1].split()[:2]]
    stopped_at = time.monotonic()
    runner.cancel(external_id)
    state, _ = wait_until(runner, external_id, set(), timeout=30)
    assert state.status == "cancelled"
    assert time.monotonic() - stopped_at < 30
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if _alive(pid)], f"job processes left: {pids}"


def _line(logs: str, prefix: str) -> str:
    return next(line for line in logs.splitlines() if line.startswith(prefix + " "))


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_wrong_token_is_refused_with_rays_message(head: RayHead, tmp_path: Path) -> None:
    """The head checks the bearer token: none is 401, a wrong one 403, each with Ray's words."""
    with pytest.raises(RayRequestError) as missing:
        RayRunner(head.address).status("anything")
    assert missing.value.status_code == 401
    assert "Missing authentication token" in str(missing.value)
    wrong = RayRunner(head.address, token="wrong")
    with pytest.raises(RayRequestError) as bad:
        wrong.submit(JobSpec(job_id="x", folder=script_folder(tmp_path), argv=("python", "x")))
    assert bad.value.status_code == 403
    assert "Invalid authentication token" in str(bad.value)


def test_unknown_job(head: RayHead, runner: RayRunner) -> None:
    """A job the head does not know is failed (status) or a 404 naming it (logs, stop)."""
    state = runner.status("advisor-unknown")
    assert state.status == "failed" and state.error and "does not know" in state.error
    # A token read from a file keeps its newline; it still authenticates.
    assert RayRunner(head.address, token=f"{head.token}\n").status("advisor-unknown") == state
    with pytest.raises(RayRequestError, match=r"^ray answered 404 .*advisor-unknown"):
        runner.logs("advisor-unknown")
    with pytest.raises(RayRequestError, match=r"^ray answered 404 .*advisor-unknown"):
        runner.cancel("advisor-unknown")


def test_head_processes_are_all_tracked(head: RayHead) -> None:
    """The fixture's stop can only be trusted if it sees the head's daemons."""
    names = set()
    for pid in head.pids():
        try:
            names.add(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            continue
    assert {"gcs_server", "raylet"} <= names, names
    assert os.getpid() not in head.pids()


def test_the_app_never_imports_ray() -> None:
    """The runner speaks HTTP only: no module of the app imports the `ray` package."""
    import ast

    app_dir = Path(__file__).resolve().parents[2] / "app"
    offenders = []
    for path in app_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path}: {n}" for n in names if n == "ray" or n.startswith("ray.")]
    assert not offenders
