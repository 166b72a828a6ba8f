"""The engine and the unit of work: one transaction, with side effects only after it commits.

SQLite needs two things from us. pysqlite's own transaction handling is switched off so that
every unit of work starts with an explicit BEGIN; a unit of work that writes says so, and
begins with `BEGIN IMMEDIATE`: it takes the write lock up front, so a second writer waits
within the busy timeout instead of failing on a read-to-write upgrade ("database is locked").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session

from app.settings import Settings

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
        _tune_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def _is_memory(url: str) -> bool:
    """An in-memory SQLite database (its own pool class; no pool sizing)."""
    return url.startswith("sqlite") and (
        url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
    )


def _tune_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    """WAL, foreign keys and a busy timeout on every connection; BEGIN emitted by us."""

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


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` once the session's unit of work has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)
