"""`Statement`: a few hot statements compiled once per dialect and run on the driver connection.

Only for statements a `make bench` figure depends on (see docs/adr/0001): the ORM session and
Core's execution context cost several times the indexed queries themselves on the step page
and the answer post. Everything else uses the ordinary SQLAlchemy API. Only `app.storage` may
import this module (import-linter checks it).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Processor = Callable[[Any], Any]


class UncompilableStatement(ValueError):
    """The statement needs SQLAlchemy's execution context (IN lists, literal execution)."""


@dataclass(frozen=True, slots=True)
class Db:
    """The driver's own (PEP 249) connection inside the session's transaction, and its dialect."""

    connection: Any
    dialect: Dialect

    @classmethod
    def of(cls, session: Session) -> Db:
        """The session's connection (begun, with its set-up) as the driver sees it."""
        # Pending ORM changes first: statements on the driver bypass the session's autoflush.
        session.flush()
        connection = session.connection()
        driver = connection.connection.dbapi_connection
        assert driver is not None  # a checked-out connection is always open
        return cls(driver, connection.dialect)


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
    read back is exactly what the ORM would store and read. Rows come back as named tuples,
    read by column name. A statement whose SQL is only finished at execution time (an `IN`
    list, a literal-execute parameter) is refused when first compiled.
    """

    __slots__ = ("_compiled", "_core", "_row")

    def __init__(self, core: ClauseElement) -> None:
        self._core = core
        self._compiled: dict[str, _Compiled] = {}
        columns = getattr(core, "exported_columns", ())
        names = [column.key for column in columns]
        self._row = namedtuple("Row", names) if names else None

    def rows(self, db: Db, /, **params: Any) -> list[Any]:
        """Run the statement and return every row it returns (none for plain writes)."""
        compiled = self._compiled.get(db.dialect.name) or self._compile(db.dialect)
        parameters = _parameters(compiled, params)
        cursor = db.connection.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            if cursor.description is None or self._row is None:
                return []
            raw: list[tuple[Any, ...]] = cursor.fetchall()
        except db.dialect.loaded_dbapi.Error as exc:
            # As SQLAlchemy would raise it: a lock time-out is an OperationalError (a 503).
            base = db.dialect.loaded_dbapi.Error
            raise DBAPIError.instance(compiled.sql, parameters, exc, base) from exc
        finally:
            cursor.close()
        make = self._row._make  # type: ignore[attr-defined]
        if not compiled.results:
            return [make(row) for row in raw]
        processed = []
        for row in raw:
            values = list(row)
            for column, processor in compiled.results:
                values[column] = processor(values[column])
            processed.append(make(values))
        return processed

    def first(self, db: Db, /, **params: Any) -> Any | None:
        """The first row, or None."""
        rows = self.rows(db, **params)
        return rows[0] if rows else None

    def sql(self, dialect: Dialect) -> str:
        """The SQL the driver runs on `dialect`."""
        return (self._compiled.get(dialect.name) or self._compile(dialect)).sql

    def _compile(self, dialect: Dialect) -> _Compiled:
        """Render the SQL and look the type processors up for this dialect."""
        compiled = self._core.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # DML and SELECT compile with the SQL compiler
        late = sorted(set(compiled.post_compile_params) | set(compiled.literal_execute_params))
        if late:
            names = ", ".join(sorted(bind.key for bind in late))
            raise UncompilableStatement(
                f"parameters {names} are only rendered at execution time (an IN list or a"
                " literal-execute value); run this statement through the Session instead"
            )
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
    missing = [
        name for name in compiled.order or () if name not in given and name not in compiled.fixed
    ]
    if missing:
        raise TypeError(f"missing statement parameters: {', '.join(missing)}")
    values = {**compiled.fixed, **given}
    for name, processor in compiled.binds.items():
        if name in values:
            values[name] = processor(values[name])
    if compiled.order is None:
        return values
    return tuple(values[name] for name in compiled.order)
