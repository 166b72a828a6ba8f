"""`advisor db backup FILE`: a consistent copy of a live SQLite database.

The copy is taken with SQLite's online backup API in one step, inside one read transaction:
in WAL mode writers go on meanwhile, and the copy is the database as of one commit. It is
written beside the target under a temporary name, checked with `PRAGMA integrity_check`, and
only then renamed into place, so a failed or interrupted backup leaves no half-written file.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup that could not be taken; nothing was written at the target."""


@dataclass(frozen=True)
class BackupReport:
    """What was written."""

    file: str
    bytes: int
    assessments: int
    integrity: str
    seconds: float


def sqlite_path(database_url: str) -> Path:
    """The file of a SQLite database URL; a BackupError for anything else."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "backup copies a SQLite database file; for PostgreSQL use pg_dump "
            f"(DATABASE_URL is {url.render_as_string(hide_password=True)})"
        )
    return Path(url.database)


def backup_sqlite(database_url: str, target: Path) -> BackupReport:
    """Copy the live database at `database_url` to `target`, checked, or raise BackupError."""
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"no database file at {source_path}")
    if target.exists():
        raise BackupError(f"{target} exists: choose a new name or remove it first")
    if not target.parent.is_dir():
        raise BackupError(f"no folder {target.parent} to write {target.name} in")
    started = time.perf_counter()
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # every page in one step: one snapshot
            integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
            assessments = copy.execute("SELECT count(*) FROM assessments").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if integrity != "ok":
            raise BackupError(f"the copy failed its integrity check: {integrity}")
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"backup failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(
        file=str(target),
        bytes=target.stat().st_size,
        assessments=int(assessments),
        integrity=integrity,
        seconds=round(time.perf_counter() - started, 3),
    )
