"""assessment ids by hash

Revision ID: 0010
Revises: 0009

A dashboard search looks up each of up to 1,000 matching assessments by id (docs/adr/0020).
On PostgreSQL a B-tree look-up visits four pages (three levels, then the row) and compares
the id text under the collation at each level; a hash look-up reads one bucket and compares
bytes, two pages in all. At 100,000 assessments the search statement for a common word went
from about 22 to 17 ms (docs/adr/0021).

PostgreSQL only: SQLite has no hash indexes (its search is well within the budget).
Autogenerate leaves the index alone (`migrations/env.py`): no model describes it.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the hash index of assessment ids (PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_assessments_id_hash ON assessments USING hash (id)")
        op.execute("ANALYZE assessments")


def downgrade() -> None:
    """Drop it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_assessments_id_hash")
