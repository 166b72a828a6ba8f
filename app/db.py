"""Storage: the engine, one transaction per unit of work, and statements run on the driver.

SQLAlchemy defines the tables (and Alembic migrates them) and writes the SQL for each dialect;
the statements then run straight on the driver's connection. On the questionnaire's hot paths
the ORM session and Core's execution context cost several times the indexed queries themselves
(`make bench`: about 300 us against 30 us to read an assessment), so the services skip them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from app.settings import Settings

Processor = Callable[[Any], Any]


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

    # pysqlite opens a (deferred) transaction before the first write of each unit of work; an
    # explicit BEGIN would cost an extra statement on every request.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@dataclass(frozen=True, slots=True)
class Db:
    """The driver's own (PEP 249) connection inside one transaction, and its dialect."""

    connection: Any
    dialect: Dialect


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Db]:
    """One transaction: commit when the block ends, roll back on any error."""
    # The pool's connection comes with the engine's connect-time set-up (pragmas, JSON loaders);
    # statements go to the driver's own connection underneath it.
    pooled = engine.raw_connection()
    driver = pooled.dbapi_connection
    assert driver is not None  # a checked-out connection is always open
    try:
        yield Db(driver, engine.dialect)
        driver.commit()
    except BaseException:
        driver.rollback()
        raise
    finally:
        pooled.close()


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One statement as one dialect's driver takes it."""

    sql: str
    order: tuple[str, ...] | None  # parameter names for positional paramstyles, else None
    fixed: dict[str, Any]  # values written into the statement, such as LIMIT 1
    binds: dict[str, Processor]  # Python value -> driver value, where the type needs it
    results: tuple[tuple[int, Processor], ...]  # (column, driver value -> Python value)


class Statement:
    """A Core statement compiled once per dialect and run on the driver's cursor.

    Values go through the column types' own bind and result processors, so what is stored and
    read back is exactly what the ORM would store and read.
    """

    __slots__ = ("_compiled", "_core")

    def __init__(self, core: ClauseElement) -> None:
        self._core = core
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, db: Db, /, **params: Any) -> list[tuple[Any, ...]]:
        """Run the statement and return every row it returns (none for plain writes)."""
        compiled = self._compiled.get(db.dialect.name) or self._compile(db.dialect)
        cursor = db.connection.cursor()
        try:
            cursor.execute(compiled.sql, _parameters(compiled, params))
            if cursor.description is None:
                return []
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            cursor.close()
        if not compiled.results:
            return rows
        processed = []
        for row in rows:
            values = list(row)
            for column, processor in compiled.results:
                values[column] = processor(values[column])
            processed.append(tuple(values))
        return processed

    def first(self, db: Db, /, **params: Any) -> tuple[Any, ...] | None:
        """The first row, or None."""
        rows = self.rows(db, **params)
        return rows[0] if rows else None

    def _compile(self, dialect: Dialect) -> _Compiled:
        """Render the SQL and look the type processors up for this dialect."""
        compiled = self._core.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # DML and SELECT compile with the SQL compiler
        binds: dict[str, Processor] = {}
        fixed = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds[name] = processor
            if not bind.required:
                fixed[name] = bind.effective_value
        columns = getattr(self._core, "exported_columns", ())
        processors = (c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        results = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        positional = compiled.positiontup
        form = _Compiled(
            sql=compiled.string,
            order=tuple(positional) if positional is not None else None,
            fixed=fixed,
            binds=binds,
            results=results,
        )
        self._compiled[dialect.name] = form
        return form


def _parameters(compiled: _Compiled, given: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
    """The statement's parameters, processed and in the shape its driver's paramstyle wants."""
    values = {**compiled.fixed, **given}
    for name, processor in compiled.binds.items():
        if name in values:
            values[name] = processor(values[name])
    if compiled.order is None:
        return values
    return tuple(values[name] for name in compiled.order)
