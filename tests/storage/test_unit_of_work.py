"""The unit of work: one transaction, writers that wait, hooks after commit, hot statements."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError

from app.models import Assessment
from app.services import assessments
from app.services.access import Caller
from app.settings import Settings
from app.storage import after_commit, loop, make_engine, unit_of_work
from app.storage.engine import writer_lock
from app.storage.loop import WouldWait, loop_unit_of_work, serves
from app.storage.statement import Db, Statement, UncompilableStatement


def _settings(url: str, **overrides: object) -> Settings:
    return Settings(database_url=url, secret_key="test-secret", **overrides)  # type: ignore[arg-type]


def test_statement_refuses_what_it_cannot_compile(sqlite_url: str) -> None:
    """An IN list is rendered only at execution time: Statement says so instead of failing."""
    engine = make_engine(_settings(sqlite_url))
    in_list = Statement(select(Assessment.id).where(Assessment.id.in_(bindparam("b_ids"))))
    with unit_of_work(engine, write=False) as session, pytest.raises(UncompilableStatement) as err:
        in_list.rows(Db.of(session), b_ids=["a", "b"])
    assert "b_ids" in str(err.value) and "Session" in str(err.value)
    engine.dispose()


def test_statement_rows_are_read_by_name(sqlite_url: str) -> None:
    engine = make_engine(_settings(sqlite_url))
    with unit_of_work(engine, write=True) as session:
        created = assessments.create_assessment(session=session, title="named")
    by_id = Statement(
        select(Assessment.title, Assessment.status).where(Assessment.id == bindparam("b_id"))
    )
    with unit_of_work(engine, write=False) as session:
        row = by_id.first(Db.of(session), b_id=created.id)
    assert row is not None and (row.title, row.status) == ("named", "in_progress")
    engine.dispose()


def test_hooks_run_after_commit_and_never_after_a_rollback(sqlite_url: str) -> None:
    engine = make_engine(_settings(sqlite_url))
    seen: list[str] = []

    def visible_outside() -> None:
        # The hook sees what the transaction wrote: it has committed.
        with unit_of_work(engine, write=False) as other:
            seen.append(str(other.scalar(select(Assessment.title))))

    with unit_of_work(engine, write=True) as session:
        assessments.create_assessment(session=session, title="kept")
        after_commit(session, visible_outside)
        assert seen == []
    assert seen == ["kept"]

    with pytest.raises(RuntimeError), unit_of_work(engine, write=True) as session:
        assessments.create_assessment(session=session, title="dropped")
        after_commit(session, lambda: seen.append("ran"))
        raise RuntimeError("the request failed")
    assert seen == ["kept"]
    with unit_of_work(engine, write=False) as session:
        assert session.scalars(select(Assessment.title)).all() == ["kept"]
    engine.dispose()


def _owner(created: assessments.Created) -> dict[str, Any]:
    """The arguments naming an assessment as its owner (the holder of its edit key)."""
    return {"caller": Caller(bearer=created.edit_key), "assessment_id": created.id}


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_a_second_writer_waits_for_the_first(sqlite_url: str) -> None:
    """BEGIN IMMEDIATE: a writer arriving during another's transaction waits, then succeeds."""
    engine = make_engine(_settings(sqlite_url))
    with unit_of_work(engine, write=True) as session:
        created = assessments.create_assessment(session=session)
    holder = sqlite3.connect(
        _sqlite_path(sqlite_url), isolation_level=None, check_same_thread=False
    )
    # Another writer changes the row and commits while our unit of work would be running: a
    # deferred transaction that read first could not write afterwards ("database is locked").
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE assessments SET title = 'changed'")
    threading.Timer(0.3, holder.commit).start()
    started = time.perf_counter()
    with unit_of_work(engine, write=True) as session:
        assessments.record_answer(
            session=session, **_owner(created), question_id="gap", value="behaviour"
        )
    assert time.perf_counter() - started >= 0.25
    with unit_of_work(engine, write=False) as session:
        answers = assessments.current_answers(session=session, **_owner(created))
        title = session.scalar(select(Assessment.title))
    assert answers == {"gap": "behaviour"} and title == "changed"
    holder.close()
    engine.dispose()


def test_a_lock_held_past_the_busy_timeout_is_an_operational_error(sqlite_url: str) -> None:
    engine = make_engine(_settings(sqlite_url, sqlite_busy_timeout_ms=100))
    holder = sqlite3.connect(
        _sqlite_path(sqlite_url), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    try:
        with (
            pytest.raises(OperationalError, match="locked"),
            unit_of_work(engine, write=True) as session,
        ):
            assessments.create_assessment(session=session)
    finally:
        holder.rollback()
        holder.close()
    with unit_of_work(engine, write=False) as session:
        assert session.scalars(select(Assessment.id)).all() == []
    engine.dispose()


def test_readers_do_not_wait_for_a_writer(sqlite_url: str) -> None:
    """WAL: a read-only unit of work runs while another connection holds the write lock."""
    engine = make_engine(_settings(sqlite_url, sqlite_busy_timeout_ms=100))
    with unit_of_work(engine, write=True) as session:
        created = assessments.create_assessment(session=session, title="t")
    holder = sqlite3.connect(
        _sqlite_path(sqlite_url), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    try:
        with unit_of_work(engine, write=False) as session:
            state = assessments.assessment_state(session=session, **_owner(created))
        assert state.assessment.title == "t"
    finally:
        holder.rollback()
        holder.close()
    engine.dispose()


def test_the_loop_reader_never_waits_and_sees_committed_rows(sqlite_url: str) -> None:
    """A loop reader reads past a writer and never sleeps on a lock."""
    engine = make_engine(_settings(sqlite_url, sqlite_busy_timeout_ms=2000))
    assert serves(engine)
    with unit_of_work(engine, write=True) as session:
        created = assessments.create_assessment(session=session, title="seen")
    with loop_unit_of_work(engine, write=False) as lean:
        assert assessments.assessment_state(session=lean, **_owner(created)).assessment.title
    # An ordinary writer does not hold readers up in WAL mode...
    holder = sqlite3.connect(
        _sqlite_path(sqlite_url), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")
    with loop_unit_of_work(engine, write=False) as lean:
        assert assessments.current_answers(session=lean, **_owner(created)) == {}
    holder.rollback()
    holder.close()
    # Should SQLite ever answer "busy" (recovering a WAL after a crash), it says so at once.
    with loop_unit_of_work(engine, write=False) as lean:
        cursor = lean.connection.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 0
    engine.dispose()


def test_a_loop_writer_that_would_wait_says_so_at_once(sqlite_url: str) -> None:
    """Another process writing, or a thread of ours: `WouldWait` at once, and nothing written."""
    engine = make_engine(_settings(sqlite_url, sqlite_busy_timeout_ms=2000))
    with unit_of_work(engine, write=True) as session:
        created = assessments.create_assessment(session=session)
    answer = {**_owner(created), "question_id": "gap", "value": "both"}

    holder = sqlite3.connect(_sqlite_path(sqlite_url), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    started = time.perf_counter()
    with pytest.raises(WouldWait), loop_unit_of_work(engine, write=True) as lean:
        assessments.record_answer(session=lean, **answer)
    assert time.perf_counter() - started < 0.5
    holder.rollback()
    holder.close()

    turn = writer_lock(engine)
    assert turn is not None
    with turn.lock, pytest.raises(WouldWait), loop_unit_of_work(engine, write=True) as lean:
        assessments.record_answer(session=lean, **answer)

    with loop_unit_of_work(engine, write=True) as lean:
        assessments.record_answer(session=lean, **answer)
    with unit_of_work(engine, write=False) as session:
        history = assessments.answer_history(session=session, **_owner(created))
    assert [(a.question_id, a.value) for a in history] == [("gap", "both")]
    engine.dispose()


def test_loop_commits_are_checkpointed_in_a_thread(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop connection never checkpoints itself; every N commits a thread does."""
    engine = make_engine(_settings(sqlite_url))
    with unit_of_work(engine, write=True) as session:
        created = assessments.create_assessment(session=session)
    checkpointed = threading.Event()
    monkeypatch.setattr(loop, "CHECKPOINT_EVERY", 3)
    monkeypatch.setattr(loop, "_checkpoint", lambda _engine: checkpointed.set())
    for value in ("both", "knowledge"):
        with loop_unit_of_work(engine, write=True) as lean:
            assessments.record_answer(
                session=lean, **_owner(created), question_id="gap", value=value
            )
    assert not checkpointed.is_set()
    with loop_unit_of_work(engine, write=True) as lean:
        assessments.record_answer(session=lean, **_owner(created), question_id="gap", value="both")
    assert checkpointed.wait(5)
    with loop_unit_of_work(engine, write=False) as lean:
        assert lean.connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    engine.dispose()
