"""The local runner: the jobs table is its queue, a worker claims and runs one job at a time.

Why the table and not a task queue library: docs/adr/0008. A job is handed over by
committing its row as `queued`; a worker claims the oldest queued row with one UPDATE
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), so however many workers poll, exactly one runs each
job. The worker runs the trainer's argv (never a shell) in the job folder, in a process group
of its own, with its output appended to `job.log`; it heartbeats its claim and watches the row
for a cancel request. A worker that starts marks jobs whose worker died `failed` ("worker
lost") and ends whatever they left running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from app.jobs import metrics
from app.jobs.demo import TRAIN_EXTRA_HINT, trl_executable
from app.jobs.runner import FINAL_STATUSES, JobSpec, RunnerName, RunnerState
from app.models import Job, utcnow
from app.settings import Settings
from app.storage import make_engine, unit_of_work

log = logging.getLogger("advisor.worker")

LOG_NAME = "job.log"
SPEC_NAME = "job.json"  # the argv and environment the worker runs, written at submit
CONFIG_NAME = "config.yaml"
HEARTBEAT_S = 2.0  # the worker's sign of life, and how often it looks for a cancel request
STALE_AFTER_S = 30.0  # a running job whose worker was silent this long has lost it
CANCEL_GRACE_S = 10.0  # SIGTERM, then SIGKILL after this long: cancelled well within 30 s
POLL_S = 2.0  # a worker tries to claim at least this often
WAKE_CHECK_S = 0.05  # and sooner when a submit on this machine touched the wake file
RECOVER_EVERY_S = 15.0
LOG_TAIL_BYTES = 256 * 1024  # the most of the log one read returns
# Set by `advisor serve` for its embedded worker: the server's pid. uvicorn re-raises the
# SIGTERM it caught once it has shut down, so the server may die without stopping its worker;
# the worker then notices its parent is gone and stops itself.
PARENT_ENV = "ADVISOR_WORKER_PARENT"


def jobs_root(settings: Settings) -> Path:
    """Where job folders live: `DATA_DIR/jobs`."""
    return Path(settings.data_dir).resolve() / "jobs"


def job_folder(settings: Settings, job_id: str) -> Path:
    """One job's folder: its config, its data, its log and its outputs."""
    return jobs_root(settings) / job_id


def wake_file(settings: Settings) -> Path:
    """Touched at each local submit, so that an idle worker on this machine claims at once."""
    return jobs_root(settings) / ".wake"


def read_log(folder: Path, *, tail: int | None = None) -> str:
    """The job's log so far: the last `tail` lines when given (and at most LOG_TAIL_BYTES)."""
    path = folder / LOG_NAME
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, size - LOG_TAIL_BYTES))
            data = stream.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    # Progress bars redraw a line with carriage returns: keep the last state of each line.
    lines = [line.rsplit("\r", 1)[-1] if "\r" in line else line for line in text.split("\n")]
    if size > LOG_TAIL_BYTES:
        lines = lines[1:]  # the first line was cut by the byte limit
    if tail is not None:
        lines = lines[-tail - 1 :] if lines and lines[-1] == "" else lines[-tail:]
    return "\n".join(lines)


def write_spec(spec: JobSpec) -> None:
    """Keep the argv and environment in the job folder, where the worker reads them."""
    body = {"argv": list(spec.argv), "env": dict(spec.env)}
    (spec.folder / SPEC_NAME).write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


class LocalRunner:
    """The runner protocol over the jobs table: submitting wakes the workers of this machine."""

    name: RunnerName = "local"

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine

    def submit(self, spec: JobSpec) -> str:
        """The row committed as `queued` is the hand-over; wake any idle worker here."""
        wake = wake_file(self.settings)
        wake.parent.mkdir(parents=True, exist_ok=True)
        wake.write_text(f"{time.time_ns()}\n", encoding="utf-8")
        return spec.job_id

    def _row(self, external_id: str) -> Job:
        if self.engine is None:
            raise RuntimeError("this LocalRunner was made without an engine")
        with unit_of_work(self.engine, write=False) as session:
            return session.get_one(Job, external_id)

    def status(self, external_id: str) -> RunnerState:
        """The job's state as its row records it."""
        job = self._row(external_id)
        return RunnerState(status=job.status, exit_code=job.exit_code, error=job.error)

    def logs(self, external_id: str, *, tail: int | None = None) -> str:
        """The job's log file."""
        return read_log(job_folder(self.settings, external_id), tail=tail)

    def cancel(self, external_id: str) -> None:
        """Cancel a queued job now; ask the worker of a running one to end it."""
        if self.engine is None:
            raise RuntimeError("this LocalRunner was made without an engine")
        with unit_of_work(self.engine, write=True) as session:
            request_cancel(session, external_id)


def request_cancel(session: Any, job_id: str) -> None:
    """A queued job becomes `cancelled` at once; a running one is flagged for its worker."""
    now = utcnow()
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="cancelled", finished_at=now, cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running")
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Claimed:
    """A job this worker claimed: its id and what the worker needs to run it."""

    id: str
    params: dict[str, Any]


def claim(engine: Engine, worker_id: str) -> Claimed | None:
    """Claim the oldest queued local job with one UPDATE; None when there is none.

    The statement only changes a row that is still `queued`, so two workers racing for the
    same row cannot both win; on PostgreSQL SKIP LOCKED sends the loser to the next row
    instead of waiting. On SQLite the write transaction (BEGIN IMMEDIATE) serialises claims.
    """
    # A read first: an idle worker polls without taking SQLite's write lock each time.
    with unit_of_work(engine, write=False) as session:
        waiting = session.scalar(
            select(Job.id).where(Job.runner == "local", Job.status == "queued").limit(1)
        )
    if waiting is None:
        return None
    now = utcnow()
    with unit_of_work(engine, write=True) as session:
        oldest = (
            select(Job.id)
            .where(Job.runner == "local", Job.status == "queued")
            .order_by(Job.created_at, Job.id)
            .limit(1)
        )
        if engine.dialect.name == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        row = session.execute(
            update(Job)
            .where(Job.id == oldest.scalar_subquery(), Job.status == "queued")
            .values(status="running", worker=worker_id, started_at=now, heartbeat_at=now)
            .returning(Job.id, Job.params)
            .execution_options(synchronize_session=False)
        ).first()
    return None if row is None else Claimed(row.id, dict(row.params))


def _worker_parts(worker: str | None) -> tuple[str, int | None]:
    """(host, pid) of a worker id "host:pid:nonce"."""
    host, _, rest = (worker or "").partition(":")
    pid_text = rest.partition(":")[0]
    return host, int(pid_text) if pid_text.isdigit() else None


def pid_alive(pid: int | None) -> bool:
    """Whether a process of this machine is alive (a zombie is not)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust the signal
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _runs_in(pid: int, folder: Path) -> bool:
    """Whether process `pid` runs in `folder` (so a recycled pid is never signalled)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).resolve() == folder.resolve()
    except OSError:
        return False


def kill_group(pgid: int, sig: int) -> None:
    """Signal a whole process group; one already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def recover_lost(engine: Engine, settings: Settings, *, host: str | None = None) -> list[str]:
    """Mark `running` local jobs whose worker is gone `failed` ("worker lost"); end what
    they left running on this machine. Returns their ids."""
    host = host or socket.gethostname()
    stale_before = utcnow() - timedelta(seconds=STALE_AFTER_S)
    lost: list[str] = []
    with unit_of_work(engine, write=True) as session:
        running = session.execute(
            select(Job.id, Job.worker, Job.pid, Job.heartbeat_at).where(
                Job.runner == "local", Job.status == "running"
            )
        ).all()
        for job in running:
            worker_host, worker_pid = _worker_parts(job.worker)
            here = worker_host == host
            beat = job.heartbeat_at  # UtcDateTime: aware on both databases
            gone = (here and not pid_alive(worker_pid)) or beat is None or beat < stale_before
            if not gone:
                continue
            folder = job_folder(settings, job.id)
            if here and job.pid and pid_alive(job.pid) and _runs_in(job.pid, folder):
                kill_group(job.pid, signal.SIGKILL)  # the trainer its worker left behind
            session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.worker == job.worker)
                .values(status="failed", error="worker lost", finished_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            lost.append(job.id)
    for job_id in lost:
        log.warning("job %s: worker lost, marked failed", job_id)
    return lost


def collect_artifacts(folder: Path, output_dir: str) -> list[dict[str, Any]]:
    """The outputs, relative to the job folder, with their sizes in bytes.

    Files at the top of the output dir one by one; a checkpoint folder as one entry.
    """
    root = (folder / output_dir).resolve()
    if not root.is_dir() or not root.is_relative_to(folder.resolve()):
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.is_symlink():
            continue
        if path.is_file():
            size = path.stat().st_size
        elif path.is_dir():
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        else:
            continue
        found.append({"path": path.relative_to(folder.resolve()).as_posix(), "bytes": size})
    return found


class _LogFollower:
    """The loss points of a growing log, read incrementally while the trainer runs."""

    def __init__(self, path: Path, logging_steps: int) -> None:
        self.path = path
        self.logging_steps = logging_steps
        self.offset = 0
        self.pending = ""  # the text after the last complete logged dict
        self.points: list[list[float]] = []

    def read(self) -> list[list[float]]:
        """The points so far, with whatever the log gained since the last read."""
        try:
            with self.path.open("rb") as stream:
                stream.seek(self.offset)
                data = stream.read(4 * 1024 * 1024)
        except FileNotFoundError:
            return self.points
        self.offset += len(data)
        text = self.pending + data.decode("utf-8", errors="replace")
        cut = text.rfind("}") + 1
        self.pending = text[cut:][-65536:]
        for _step, value in metrics.loss_from_log(text[:cut]):
            self.points.append([(len(self.points) + 1) * self.logging_steps, value])
        return self.points


class Worker:
    """Claims local jobs one at a time and runs each to its end (or its cancel)."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine | None = None,
        *,
        poll_s: float = POLL_S,
        cancel_grace_s: float = CANCEL_GRACE_S,
    ) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings)
        self._owns_engine = engine is None
        self.poll_s = poll_s
        self.cancel_grace_s = cancel_grace_s
        self.host = socket.gethostname()
        self.id = f"{self.host}:{os.getpid()}:{secrets.token_hex(4)}"
        self.stopping = threading.Event()
        self.current: str | None = None
        parent = os.environ.get(PARENT_ENV, "")
        self.parent = int(parent) if parent.isdigit() else None

    def _orphaned(self) -> bool:
        """Whether the server this embedded worker belongs to has gone (then stop)."""
        if self.parent is not None and os.getppid() != self.parent:
            self.stopping.set()
            return True
        return False

    def stop(self) -> None:
        """Finish: an idle worker exits at once; a running job is interrupted (failed)."""
        self.stopping.set()

    def run(self) -> None:
        """Recover lost jobs, then claim and run jobs until stopped."""
        jobs_root(self.settings).mkdir(parents=True, exist_ok=True)
        log.info("worker %s: watching %s", self.id, self.settings.database_url)
        recovered_at = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() - recovered_at > RECOVER_EVERY_S:
                    recover_lost(self.engine, self.settings, host=self.host)
                    recovered_at = time.monotonic()
                job = claim(self.engine, self.id)
                if job is None:
                    self._wait_for_work()
                    continue
                self.execute(job)
        finally:
            if self._owns_engine:
                self.engine.dispose()

    def run_once(self) -> str | None:
        """Claim one job and run it to its end; its id, or None when none was queued."""
        job = claim(self.engine, self.id)
        if job is None:
            return None
        self.execute(job)
        return job.id

    def _wait_for_work(self) -> None:
        """Sleep up to poll_s, waking early when a submit here touches the wake file."""
        wake = wake_file(self.settings)
        seen = _mtime(wake)
        deadline = time.monotonic() + self.poll_s
        while time.monotonic() < deadline and not self.stopping.is_set():
            if _mtime(wake) != seen or self._orphaned():
                return
            self.stopping.wait(WAKE_CHECK_S)

    def execute(self, job: Claimed) -> None:
        """Run one claimed job's argv in its folder and record how it ended."""
        self.current = job.id
        folder = job_folder(self.settings, job.id)
        try:
            argv, env = self._command(folder)
        except (OSError, ValueError) as exc:
            self._finish(job.id, "failed", error=str(exc))
            return
        logging_steps = 1 if job.params.get("gpu") == "cpu" else 10
        with (folder / LOG_NAME).open("ab") as output:
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=folder,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group: cancel ends all of it
                )
            except OSError as exc:
                self._finish(job.id, "failed", error=f"could not start {argv[0]}: {exc}")
                return
        self._set_pid(job.id, process.pid)
        follower = _LogFollower(folder / LOG_NAME, logging_steps)
        code, ended_by = self._supervise(job.id, process, follower)
        kill_group(process.pid, signal.SIGKILL)  # anything the trainer started and left
        points = metrics.loss_of(folder, read_log(folder), logging_steps=logging_steps)
        artifacts = collect_artifacts(folder, str(job.params.get("output_dir") or "outputs"))
        if ended_by == "cancel":
            status, error = "cancelled", None
        elif ended_by == "stop":
            status, error = "failed", "worker stopped while the job ran; submit it again"
        elif code == 0:
            status, error = "succeeded", None
        else:
            status, error = "failed", _failure(folder, code)
        self._finish(
            job.id,
            status,
            exit_code=code,
            error=error,
            artifacts=artifacts,
            metrics={"loss": points or follower.points},
        )

    def _command(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        """The argv and environment written at submit; `trl` is this environment's own."""
        spec = json.loads((folder / SPEC_NAME).read_text(encoding="utf-8"))
        argv = [str(a) for a in spec["argv"]]
        if not argv or argv[0] != "trl":
            raise ValueError(f"refusing to run {argv[:1]}: the local runner only runs trl")
        trl = trl_executable()
        if trl is None:
            raise ValueError(f"the trl command is not installed: {TRAIN_EXTRA_HINT}")
        env = {**os.environ, **{str(k): str(v) for k, v in spec.get("env", {}).items()}}
        return [str(trl), *argv[1:]], env

    def _supervise(
        self, job_id: str, process: subprocess.Popen[bytes], follower: _LogFollower
    ) -> tuple[int, str]:
        """Wait for the trainer, heartbeating; end its group on a cancel request or a stop."""
        beat_at = time.monotonic()
        term_at: float | None = None
        ended_by = "exit"
        while True:
            try:
                return process.wait(timeout=0.2), ended_by
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if term_at is None and (self.stopping.is_set() or self._orphaned()):
                ended_by, term_at = "stop", now
                kill_group(process.pid, signal.SIGTERM)
            if now - beat_at >= HEARTBEAT_S:
                beat_at = now
                cancel = self._heartbeat(job_id, follower.read())
                if cancel and term_at is None:
                    ended_by, term_at = "cancel", now
                    kill_group(process.pid, signal.SIGTERM)
            if term_at is not None and now - term_at >= self.cancel_grace_s:
                kill_group(process.pid, signal.SIGKILL)

    def _heartbeat(self, job_id: str, points: Sequence[Sequence[float]]) -> bool:
        """Refresh the claim and the loss so far; whether a cancel was requested."""
        with unit_of_work(self.engine, write=True) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == self.id)
                .values(heartbeat_at=utcnow(), metrics={"loss": [list(p) for p in points]})
                .execution_options(synchronize_session=False)
            )
            flag = session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
        return bool(flag)

    def _set_pid(self, job_id: str, pid: int) -> None:
        with unit_of_work(self.engine, write=True) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == self.id)
                .values(pid=pid, heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def _finish(self, job_id: str, status: str, **values: Any) -> None:
        """Record the end, unless another worker's recovery took the job meanwhile."""
        assert status in FINAL_STATUSES
        with unit_of_work(self.engine, write=True) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.worker == self.id, Job.status == "running")
                .values(status=status, finished_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
        self.current = None
        log.info("job %s: %s", job_id, status)


def _failure(folder: Path, code: int) -> str:
    """Why a trainer failed, in one line: its exit and the log's last error line."""
    lines = [line.strip() for line in read_log(folder, tail=200).splitlines() if line.strip()]
    last = next((line for line in reversed(lines) if "Error" in line or "error" in line), None)
    reason = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
    return f"{reason}: {last[:1500]}" if last else reason


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def run_worker(settings: Settings) -> None:
    """`advisor worker`: one worker until SIGTERM or SIGINT (a running job is interrupted)."""
    worker = Worker(settings)

    def _stop(_signum: int, _frame: object) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
