"""Engine and session factory: SQLite tuned for a web app (WAL, foreign keys, busy timeout)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings


def make_engine(settings: Settings, **engine_options: Any) -> Engine:
    """Create the SQLAlchemy engine for `settings.database_url`."""
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **engine_options)
        _tune_sqlite(engine, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, **engine_options)


def _tune_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Turn on WAL, foreign keys and a busy timeout on every new SQLite connection."""

    # pysqlite opens a (deferred) transaction before the first write of each unit of work; the
    # explicit BEGIN that SQLAlchemy's docs suggest would cost an extra statement on every request.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """One factory per app; sessions keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
