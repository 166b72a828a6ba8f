"""The engine and the unit of work: one transaction, with side effects only after it commits.

SQLite needs two things from us. pysqlite's own transaction handling is switched off so that
every unit of work starts with an explicit BEGIN; a unit of work that writes says so, and
begins with `BEGIN IMMEDIATE`: it takes the write lock up front, so a second writer waits
within the busy timeout instead of failing on a read-to-write upgrade ("database is locked").
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.settings import Settings
from app.storage.statement import Db

LeanTransaction = Db  # what `lean_unit_of_work` yields: the driver connection and its dialect
_WRITE = "advisor_write"  # execution option: this unit of work will write
_AFTER_COMMIT = "advisor_after_commit"  # session.info key: callables to run once committed


def make_engine(settings: Settings, **engine_options: Any) -> Engine:
    """Create the SQLAlchemy engine for `settings.database_url`, its pool sized by settings."""
    url = settings.database_url
    pool = dict(engine_options)
    # A pool class given by the caller (NullPool for migrations) or SQLite's in-memory one
    # takes no sizing.
    if "poolclass" not in pool and not _is_memory(url):
        pool.update(
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_s,
        )
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        _tune_sqlite(
            engine,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            mmap_bytes=settings.sqlite_mmap_bytes,
        )
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def _is_memory(url: str) -> bool:
    """An in-memory SQLite database (its own pool class; no pool sizing)."""
    return url.startswith("sqlite") and (
        url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
    )


def _tune_sqlite(engine: Engine, *, busy_timeout_ms: int, mmap_bytes: int = 0) -> None:
    """WAL, foreign keys, a busy timeout and memory-mapped reads on every connection; BEGIN
    emitted by us."""
    _WRITER_LOCKS[engine] = _WriterLock(threading.Lock(), busy_timeout_ms / 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would otherwise begin lazily, before the first write, and never IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Pages read through a shared memory map instead of a read() each into every
        # connection's own small cache: a dashboard search touching a thousand rows of a large
        # team took 20-30 ms, 5 with the map (docs/adr/0017).
        cursor.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Through SQLAlchemy, so a lock time-out arrives as its OperationalError (a 503).
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def unit_of_work(engine: Engine, *, write: bool) -> Iterator[Session]:
    """One transaction: commit when the block ends, roll back on any error, then run hooks.

    Call it from a thread, never on the event loop: checkouts, lock waits and commits block.
    """
    with writer_turn(engine, write):
        session = Session(engine, expire_on_commit=False, execution_options={_WRITE: write})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
    for hook in session.info.pop(_AFTER_COMMIT, ()):
        hook()


@contextmanager
def lean_unit_of_work(engine: Engine, *, write: bool) -> Iterator[LeanTransaction]:
    """One transaction on a pooled driver connection, without a Session: the hot routes' own.

    Only for the two benchmarked routes (docs/adr/0001): the Session's bookkeeping costs
    three times their statements. Same rules as `unit_of_work`: a thread, never the loop.
    """
    with writer_turn(engine, write):
        pooled = engine.raw_connection()
        driver = pooled.dbapi_connection
        assert driver is not None  # a checked-out connection is always open
        try:
            with as_sqlalchemy_errors(engine):
                if engine.dialect.name == "sqlite":
                    # pysqlite's own BEGIN is off (see `_tune_sqlite`); other drivers begin
                    # implicitly at the first statement.
                    driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield Db(driver, engine.dialect)
            with as_sqlalchemy_errors(engine):
                driver.commit()
        except BaseException:
            driver.rollback()
            raise
        finally:
            pooled.close()


@contextmanager
def as_sqlalchemy_errors(engine: Engine) -> Iterator[None]:
    """Raise driver errors as SQLAlchemy's, so a lock time-out is an OperationalError (503)."""
    base = engine.dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise DBAPIError.instance(None, None, exc, base) from exc


# SQLite has one writer at a time. Threads of one process take turns on a lock of ours before
# BEGIN IMMEDIATE: SQLite's own busy handler waits by sleeping (1, 2, 5, ... 100 ms), which
# under a burst of answers cost more than the writes (p99 0.9 s at 32 clients); a thread
# waiting here wakes as soon as the writer before it commits. Other processes still meet
# in SQLite's lock, within the busy timeout.
@dataclass(frozen=True)
class _WriterLock:
    """The turn writers of one process take, and how long one waits for it."""

    lock: threading.Lock
    timeout_s: float


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, _WriterLock] = weakref.WeakKeyDictionary()


def writer_lock(engine: Engine) -> _WriterLock | None:
    """This process's SQLite writer turn for `engine` (None for other databases)."""
    return _WRITER_LOCKS.get(engine)


@contextmanager
def writer_turn(engine: Engine, write: bool) -> Iterator[None]:
    """Hold this process's SQLite writer lock for a writing unit of work."""
    turn = writer_lock(engine) if write else None
    if turn is None:
        yield
        return
    lock, timeout_s = turn.lock, turn.timeout_s
    if not lock.acquire(timeout=timeout_s):
        raise OperationalError(
            "BEGIN IMMEDIATE",
            None,
            TimeoutError(f"database is locked: no write turn within {timeout_s:g} s"),
        )
    try:
        yield
    finally:
        lock.release()


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` once the session's unit of work has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)
