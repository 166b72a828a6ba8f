"""search by team

Revision ID: 0009
Revises: 0008

The dashboard's search reads the newest `SEARCH_LIMIT` matching documents (docs/adr/0019),
and until now it read them across every team, keeping the team's afterwards: another team's
newer documents holding the same word could take the whole limit, and a small team's search
then found nothing. Each search document now carries its assessment's team
(`search_documents.team_id`), and the search reads only the team's documents.

Triggers keep the copy in step: a document takes its assessment's team when it is written,
and an assessment that moves to another team (a claim) moves its documents with it. On
SQLite the full-text index's update trigger now fires on `body` only, so that moving
documents (and this revision's backfill) does not rewrite the index.

PostgreSQL scans `search_documents` without parallel workers: a search reads a few thousand
rows at most, and starting two workers took longer than the scan itself (24 ms against 11 ms
for a common word at 100,000 assessments on two cores).

`search_documents` gets a column and an index only (it is not rebuilt): its triggers stay.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEAM_OF_DOCUMENT = "(SELECT a.team_id FROM assessments a WHERE a.id = {row}.assessment_id)"
MOVE_DOCUMENTS = "UPDATE search_documents SET team_id = NEW.team_id WHERE assessment_id = NEW.id"

SQLITE_TRIGGERS = {
    "tr_search_documents_team": f"""
        CREATE TRIGGER tr_search_documents_team AFTER INSERT ON search_documents
        BEGIN
            UPDATE search_documents SET team_id = {TEAM_OF_DOCUMENT.format(row="NEW")}
            WHERE id = NEW.id;
        END""",
    "tr_assessments_moved": f"""
        CREATE TRIGGER tr_assessments_moved AFTER UPDATE OF team_id ON assessments
        WHEN OLD.team_id IS NOT NEW.team_id
        BEGIN
            {MOVE_DOCUMENTS};
        END""",
}


def _sqlite_index_update(columns: str) -> str:
    """0006's trigger that rewrites a document's full-text entry, on an update of `columns`."""
    return f"""
        CREATE TRIGGER tr_search_documents_update AFTER UPDATE {columns} ON search_documents
        BEGIN
            INSERT INTO search_documents_fts (search_documents_fts, rowid, body)
            VALUES ('delete', OLD.id, OLD.body);
            INSERT INTO search_documents_fts (rowid, body) VALUES (NEW.id, NEW.body);
        END"""


POSTGRES_FUNCTIONS = {
    "advisor_search_document_team": f"""
        BEGIN
            NEW.team_id := {TEAM_OF_DOCUMENT.format(row="NEW")};
            RETURN NEW;
        END""",
    "advisor_assessment_moved": f"""
        BEGIN
            {MOVE_DOCUMENTS};
            RETURN NULL;
        END""",
}
POSTGRES_TRIGGERS = {
    "tr_search_documents_team": (
        "BEFORE INSERT ON search_documents FOR EACH ROW",
        "advisor_search_document_team",
    ),
    "tr_assessments_moved": (
        "AFTER UPDATE OF team_id ON assessments FOR EACH ROW"
        " WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id)",
        "advisor_assessment_moved",
    ),
}
POSTGRES_TRIGGER_TABLES = {
    "tr_search_documents_team": "search_documents",
    "tr_assessments_moved": "assessments",
}


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    # A plain ADD COLUMN (not batch mode): rebuilding the table would drop its triggers.
    op.add_column("search_documents", sa.Column("team_id", sa.String(length=64), nullable=True))
    if dialect == "sqlite":
        op.execute("DROP TRIGGER tr_search_documents_update")
        op.execute(_sqlite_index_update("OF body"))
    op.execute(
        f"UPDATE search_documents SET team_id = {TEAM_OF_DOCUMENT.format(row='search_documents')}"
    )
    op.create_index("ix_search_documents_team_id", "search_documents", ["team_id"], unique=False)
    if dialect == "sqlite":
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    else:
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
        for name, (when, function) in POSTGRES_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}()")
        op.execute("ALTER TABLE search_documents SET (parallel_workers = 0)")
        op.execute("ANALYZE search_documents")


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TRIGGER tr_search_documents_update")
        op.execute(_sqlite_index_update(""))
    else:
        for name, table in POSTGRES_TRIGGER_TABLES.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
        op.execute("ALTER TABLE search_documents RESET (parallel_workers)")
    op.drop_index("ix_search_documents_team_id", table_name="search_documents")
    op.execute("ALTER TABLE search_documents DROP COLUMN team_id")
