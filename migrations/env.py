"""Alembic environment: the URL comes from the caller or from the app's settings."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool

from app.models import Base
from app.settings import Settings
from app.storage import make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata
POSTGRES_ONLY_INDEXES = {"ix_search_documents_body_tsv", "ix_assessments_id_hash"}


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave out the dashboard's one-dialect indexes: SQLite's full-text virtual table with
    its shadow tables and PostgreSQL's GIN index over an expression (migration 0006), and
    PostgreSQL's hash index of assessment ids (0010). No model describes them, so
    autogenerate would drop them."""
    if type_ == "table":
        return not (name or "").startswith("search_documents_fts")
    return not (type_ == "index" and name in POSTGRES_ONLY_INDEXES)


def _database_url() -> str:
    """The URL handed over by `app.migrate`, else the one in the environment."""
    return config.attributes.get("database_url") or Settings().database_url


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a live connection; batch mode so SQLite can alter tables."""
    engine = make_engine(Settings(database_url=_database_url()), poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table: copies it, drops the original, renames the copy. With
            # foreign keys on, that drop would cascade and delete every row pointing at it (the
            # answers of every assessment). The pragma only takes effect outside a transaction,
            # so it goes to the driver before the migration's BEGIN.
            driver = connection.connection.dbapi_connection
            assert driver is not None
            driver.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            include_name=_include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
