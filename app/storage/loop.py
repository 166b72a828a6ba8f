"""SQLite units of work that cannot wait, run on the event loop itself (docs/adr/0002).

A thread hop costs the step page and the answer post more than their whole database work
(`make bench`: 0.71x against 0.29x of the bare page for the step page). On SQLite in WAL mode
neither needs to wait: a reader takes no lock a writer holds, and a writer that finds the
write lock free holds it until its commit, which appends to the WAL without an fsync. So each
process keeps one connection for the loop, out of the pool (no checkout to wait for), with a
busy timeout of zero: when SQLite would make it wait (another process writing, a WAL being
recovered) it raises `WouldWait` at once and the caller goes to a thread, where waiting is
harmless. Its WAL is checkpointed in a thread, never by a commit on the loop.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from app.storage.engine import as_sqlalchemy_errors, writer_lock
from app.storage.statement import Db

CHECKPOINT_EVERY = 500  # commits on the loop between passive checkpoints (~2 MB of WAL)


class WouldWait(Exception):
    """The unit of work would have to wait for a lock: run it in a thread instead."""


def serves(engine: Engine) -> bool:
    """Whether units of work may run on the loop for `engine`: a SQLite file (WAL)."""
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


@contextmanager
def loop_unit_of_work(engine: Engine, *, write: bool) -> Iterator[Db]:
    """One transaction on the loop's connection; `WouldWait` instead of any wait."""
    loop = _connection(engine)
    turn = writer_lock(engine) if write else None
    # A thread of this process is writing: its turn would make us wait.
    if turn is not None and not turn.lock.acquire(blocking=False):
        raise WouldWait
    try:
        driver = loop.driver()
        try:
            with as_sqlalchemy_errors(engine):
                driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except OperationalError as exc:
            raise WouldWait from exc  # busy: another process holds the lock
        try:
            yield Db(driver, engine.dialect)
            if write:
                with as_sqlalchemy_errors(engine):
                    driver.commit()
        finally:
            if driver.in_transaction:
                driver.rollback()
    finally:
        if turn is not None:
            turn.lock.release()
    if write:
        loop.committed()


class _LoopConnection:
    """The loop's own SQLite connection, opened on first use with the pool's set-up."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._driver: Any = None
        self._commits = 0

    def driver(self) -> Any:
        """The open driver connection: no busy timeout, no checkpoints of its own."""
        if self._driver is None:
            pooled = self._engine.raw_connection()
            pooled.detach()  # ours for the life of the process: never returned to the pool
            driver = pooled.dbapi_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout=0")
            driver.execute("PRAGMA wal_autocheckpoint=0")
            self._driver = driver
        return self._driver

    def committed(self) -> None:
        """Count a commit; every so often copy the WAL back into the database, in a thread."""
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            threading.Thread(target=_checkpoint, args=(self._engine,), daemon=True).start()


def _checkpoint(engine: Engine) -> None:
    """A passive checkpoint on a pooled connection: copies what no reader still needs."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


_CONNECTIONS: weakref.WeakKeyDictionary[Engine, _LoopConnection] = weakref.WeakKeyDictionary()


def _connection(engine: Engine) -> _LoopConnection:
    """The loop connection of `engine`, made on first use."""
    found = _CONNECTIONS.get(engine)
    if found is None:
        found = _CONNECTIONS[engine] = _LoopConnection(engine)
    return found
