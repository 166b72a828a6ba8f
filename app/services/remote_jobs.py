"""Jobs on a remote runner (Ray): their state read from the runner, their logs, their cancel.

The jobs table is the local runner's own record; a remote job's truth is on the runner. So
reading a non-final remote job asks the runner and writes what it says to the row, but never
inside the request's transaction: the route reads the row and commits, then (an `after_commit`
hook) the runner is asked over HTTP with no transaction open, then the answer is written in a
short transaction of its own. A job is asked at most once per REFRESH_EVERY_S in a process,
however many pages poll it: the answer (state and log) is kept and shared. A runner that
cannot be reached leaves the last known state: a read never fails a job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from app.jobs import metrics
from app.jobs.local import job_folder, read_log
from app.jobs.registry import RunnerNotConfigured, runner_for
from app.jobs.runner import FINAL_STATUSES, Runner, RunnerError
from app.models import Job, utcnow
from app.settings import Settings
from app.storage import after_commit, unit_of_work

log = logging.getLogger("advisor.jobs")

REFRESH_EVERY_S = 1.0  # the job page polls every 2 s: one runner call serves every poller
READ_TIMEOUT_S = 5.0  # a read waits this long for a runner that hangs, then keeps what it knows
CONNECT_TIMEOUT_S = 2.0
LIST_REFRESH_MAX = 20  # a list asks the runner about at most this many unfinished jobs
LOG_KEEP_CHARS = 256 * 1024  # the most of a remote log kept and returned (as the local runner)
REMEMBERED_MAX = 64  # jobs whose last answer is kept
MAX_ERROR_CHARS = 2000


@dataclass
class _Answer:
    """The runner's last answer about one job: when, the values it gave, the log's end."""

    at: float
    values: dict[str, Any] = field(default_factory=dict)
    log: str | None = None


_answers: dict[str, _Answer] = {}
_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def is_remote(job: Job) -> bool:
    """Whether the job's truth lives on a remote runner (it has been handed to one)."""
    return job.runner != "local" and bool(job.external_id)


def _lock_for(job_id: str) -> threading.Lock:
    """One lock per job: concurrent readers of a job wait for one runner call, not make many."""
    with _guard:
        lock = _locks.get(job_id)
        if lock is None:
            if len(_locks) >= REMEMBERED_MAX * 4:
                _locks.clear()  # a waiter keeps its own reference; a new lock is harmless
            lock = _locks[job_id] = threading.Lock()
        return lock


def _remember(job_id: str, answer: _Answer) -> None:
    with _guard:
        _answers.pop(job_id, None)
        _answers[job_id] = answer
        while len(_answers) > REMEMBERED_MAX:
            _answers.pop(next(iter(_answers)))


def forget(job_id: str) -> None:
    """Drop the kept answer, so that the next read asks the runner (after a cancel, say)."""
    with _guard:
        _answers.pop(job_id, None)


def _runner(job: Job, settings: Settings) -> Runner:
    return runner_for(
        job.runner, settings, timeout=READ_TIMEOUT_S, connect_timeout=CONNECT_TIMEOUT_S
    )


def record(engine: Engine, job: Job, **values: Any) -> None:
    """Write values to a job that is not final yet (one short transaction), and onto `job`."""
    with unit_of_work(engine, write=True) as session:
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status.not_in(FINAL_STATUSES))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    for key, value in values.items():
        setattr(job, key, value)


def refresh(engine: Engine, settings: Settings, job: Job) -> Job:
    """The runner's view of a non-final remote job, written to its row; never raises.

    Call it with no transaction open: it waits on the runner (at most READ_TIMEOUT_S).
    """
    if not is_remote(job) or job.status in FINAL_STATUSES:
        return job
    with _lock_for(job.id):
        known = _answers.get(job.id)
        if known is not None and time.monotonic() - known.at < REFRESH_EVERY_S:
            for key, value in known.values.items():
                setattr(job, key, value)
            return job
        asked_at = time.monotonic()
        try:
            values, text = _ask(job, settings)
        except (RunnerError, RunnerNotConfigured, ValueError) as exc:
            log.info("job %s: no fresh state from %s: %s", job.id, job.runner, exc)
            _remember(job.id, _Answer(at=asked_at))  # do not ask again at once
            return job
        changed = {k: v for k, v in values.items() if getattr(job, k) != v}
        if changed:
            record(engine, job, **changed)
        _remember(job.id, _Answer(at=asked_at, values=values, log=text))
    return job


def _ask(job: Job, settings: Settings) -> tuple[dict[str, Any], str | None]:
    """The job's values as the runner reports them now, and its log when it has one."""
    assert job.external_id is not None  # is_remote
    runner = _runner(job, settings)
    state = runner.status(job.external_id)
    text = runner.logs(job.external_id) if state.status != "queued" else None
    now = utcnow()
    values: dict[str, Any] = {"status": state.status, "exit_code": state.exit_code}
    if state.error:
        values["error"] = state.error[:MAX_ERROR_CHARS]
    if state.status != "queued" and job.started_at is None:
        values["started_at"] = now
    if state.status in FINAL_STATUSES and job.finished_at is None:
        values["finished_at"] = now
    if text:
        logging_steps = 1 if (job.params or {}).get("gpu") == "cpu" else 10
        points = metrics.loss_from_log(text, logging_steps=logging_steps)
        if points:
            values["metrics"] = {**(job.metrics or {}), "loss": points}
        text = text[-LOG_KEEP_CHARS:]
    return values, text


def refresh_after_commit(session: Session, settings: Settings, jobs: Iterable[Job]) -> None:
    """Refresh the given jobs once the caller's transaction has committed (and closed)."""
    stale = [j for j in jobs if is_remote(j) and j.status not in FINAL_STATUSES]
    if not stale:
        return
    engine = session.get_bind()
    assert isinstance(engine, Engine)

    def hook() -> None:
        for job in stale[:LIST_REFRESH_MAX]:
            refresh(engine, settings, job)

    after_commit(session, hook)


def log_tail(settings: Settings, job: Job, tail: int | None = None) -> str:
    """The job's log so far (its last `tail` lines): the local file, or the runner's log
    (kept from the last refresh when fresh). A runner that cannot answer says so as text."""
    if not is_remote(job):
        return read_log(job_folder(settings, job.id), tail=tail)
    assert job.external_id is not None
    known = _answers.get(job.id)
    fresh = known is not None and time.monotonic() - known.at < REFRESH_EVERY_S
    if known is not None and known.log is not None and (fresh or job.status in FINAL_STATUSES):
        text = known.log
    else:
        try:
            text = _runner(job, settings).logs(job.external_id)[-LOG_KEEP_CHARS:]
        except (RunnerError, RunnerNotConfigured, ValueError) as exc:
            return f"(no logs: {exc})\n"
    if tail is None:
        return text
    return "".join(text.splitlines(keepends=True)[-tail:]) if tail > 0 else ""


def cancel_after_commit(session: Session, settings: Settings, job: Job) -> None:
    """Ask the runner to stop the job once the caller's transaction has committed.

    The stop is the runner's (Ray: SIGTERM to the entrypoint and its children, SIGKILL 3 s
    later); the row says `cancel_requested` once the runner took the request, and `cancelled`
    when a later read finds the job stopped. A runner that cannot be reached raises
    RunnerError: nothing was changed, and the caller hears why.
    """
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    after_commit(session, _stopper(engine, settings, job))


def _stopper(engine: Engine, settings: Settings, job: Job) -> Callable[[], None]:
    def stop() -> None:
        assert job.external_id is not None
        try:
            _runner(job, settings).cancel(job.external_id)
        except (RunnerNotConfigured, ValueError) as exc:  # not offered, or a bad RAY_ADDRESS
            raise RunnerError(str(exc)) from None
        except RunnerError as exc:
            if getattr(exc, "status_code", None) != 404:
                raise
            # The runner does not know the job (a restarted cluster): the refresh says so.
        record(engine, job, cancel_requested=True)
        forget(job.id)
        refresh(engine, settings, job)

    return stop
