"""The claim: however many workers race, each queued job is claimed exactly once, oldest first."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from app.jobs.local import claim
from app.models import Job, new_token, utcnow
from app.settings import Settings
from app.storage import make_engine, unit_of_work

JOBS = 40
WORKERS = 8


def _queue(engine: Engine, count: int) -> list[str]:
    """`count` queued local jobs, oldest first; a Ray job that local workers must not take."""
    start = utcnow()
    ids = []
    with unit_of_work(engine, write=True) as session:
        for index in range(count + 1):
            job = Job(
                id=new_token(),
                recipe="sft-lora",
                params={},
                runner="ray" if index == count else "local",
                external_id=None,
                status="queued",
                assessment_id=None,
                owner_user_id=None,
                created_at=start + timedelta(milliseconds=index),
                artifacts=[],
                metrics={},
                cancel_requested=False,
            )
            session.add(job)
            if job.runner == "local":
                ids.append(job.id)
    return ids


def _race(engine: Engine) -> dict[str, list[str]]:
    """WORKERS threads claiming until the queue is empty; what each claimed, in order."""
    claimed: dict[str, list[str]] = {f"w{i}": [] for i in range(WORKERS)}
    barrier = threading.Barrier(WORKERS)

    def work(name: str) -> None:
        barrier.wait()
        while (job := claim(engine, f"host:1:{name}")) is not None:
            claimed[name].append(job.id)

    threads = [threading.Thread(target=work, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return claimed


def _check(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url))
    try:
        queued = _queue(engine, JOBS)
        claimed = _race(engine)
        every = [job_id for ids in claimed.values() for job_id in ids]
        assert sorted(every) == sorted(queued), "a job claimed twice, or one never claimed"
        assert sum(1 for ids in claimed.values() if ids) > 1, "one worker took everything"
        for ids in claimed.values():  # each worker took jobs oldest first
            assert ids == sorted(ids, key=queued.index)
        with unit_of_work(engine, write=False) as session:
            rows = session.execute(select(Job.id, Job.status, Job.worker, Job.runner)).all()
        owners = {r.id: r.worker for r in rows if r.runner == "local"}
        for name, ids in claimed.items():
            assert all(owners[i] == f"host:1:{name}" for i in ids)
        assert {r.status for r in rows if r.runner == "local"} == {"running"}
        assert [r.status for r in rows if r.runner == "ray"] == ["queued"]
        assert claim(engine, "host:1:late") is None
    finally:
        engine.dispose()


def test_claims_are_exactly_once_on_sqlite(sqlite_url: str) -> None:
    _check(sqlite_url)


@pytest.mark.postgres
def test_claims_are_exactly_once_on_postgres(postgres_url: str) -> None:
    _check(postgres_url)
