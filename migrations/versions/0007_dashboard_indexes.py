"""dashboard indexes

Revision ID: 0007
Revises: 0006

The team dashboard at 100,000 assessments (issue 13, docs/adr/0017). Every index the dashboard
pages on now ends its sort with `id`, the tie-breaker of every ORDER BY: before, a page of a
team whose assessments share a time (bulk imports, seeded history) sorted every tie in a
temporary B-tree. The three sort indexes carry every filtered column and the other sort keys
after the id, so that a filter without an index of its own (an author with the title sort,
a date range with the creation sort) is answered from the sort's index alone, and so that
the counts of a date range never read the table.

It also gives an author to assessments that were claimed without one (docs/adr/0017): the
owning user, else whoever first asked for its review, else whoever first answered.

And it links a webhook delivery made by an owner's "Redeliver" to the one it repeats
(`webhook_deliveries.redelivery_of`).

`assessments` gets indexes only (it is not rebuilt): the triggers of 0006 on it stay.
`webhook_deliveries`, which has no triggers, may be rebuilt by SQLite's batch mode.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_KEYS = ["updated_at", "created_at", "title"]
FILTERS = ["status", "primary_approach", "author_id"]


def _sort_index(key: str) -> list[str]:
    """A sort's index: the team, the key, the id, then every filter and the other keys."""
    return ["team_id", key, "id", *FILTERS, *(other for other in SORT_KEYS if other != key)]


NEW_INDEXES = {
    **{f"ix_assessments_team_id_{key}_id": _sort_index(key) for key in SORT_KEYS},
    "ix_assessments_team_id_status_updated_at_id": ["team_id", "status", "updated_at", "id"],
    "ix_assessments_team_id_primary_approach_updated_at_id": [
        "team_id",
        "primary_approach",
        "updated_at",
        "id",
    ],
    "ix_assessments_team_id_author_id_updated_at_id": [
        "team_id",
        "author_id",
        "updated_at",
        "id",
        "primary_approach",
        "status",
    ],
}
# Those of 0006 that the new ones replace (each is a prefix of its replacement, or no longer read).
OLD_INDEXES = {
    "ix_assessments_team_id_updated_at": ["team_id", "updated_at", "primary_approach", "status"],
    "ix_assessments_team_id_created_at": ["team_id", "created_at"],
    "ix_assessments_team_id_title": ["team_id", "title"],
    "ix_assessments_team_id_status_updated_at": ["team_id", "status", "updated_at"],
    "ix_assessments_team_id_primary_approach_updated_at": [
        "team_id",
        "primary_approach",
        "updated_at",
    ],
    "ix_assessments_team_id_author_id_updated_at": [
        "team_id",
        "author_id",
        "updated_at",
        "primary_approach",
        "status",
    ],
}


def upgrade() -> None:
    """Upgrade schema."""
    for name in OLD_INDEXES:
        op.drop_index(name, table_name="assessments")
    for name, columns in NEW_INDEXES.items():
        op.create_index(name, "assessments", columns, unique=False)
    # Claimed before claims recorded an author: the owner, the first to ask for review, or
    # the first to answer (those who left no trace stay without one).
    op.execute(
        "UPDATE assessments SET author_id = coalesce(owner_user_id,"
        " (SELECT e.actor_id FROM audit_events e WHERE e.assessment_id = assessments.id"
        " AND e.action = 'review_requested' AND e.actor_id IS NOT NULL ORDER BY e.id LIMIT 1),"
        " (SELECT a.author_id FROM answers a WHERE a.assessment_id = assessments.id"
        " AND a.author_id IS NOT NULL ORDER BY a.id LIMIT 1))"
        " WHERE author_id IS NULL AND (owner_user_id IS NOT NULL OR team_id IS NOT NULL)"
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redelivery_of", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_webhook_deliveries_redelivery_of_webhook_deliveries"),
            "webhook_deliveries",
            ["redelivery_of"],
            ["id"],
            ondelete="SET NULL",
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE assessments")  # the planner sees the new indexes' statistics now


def downgrade() -> None:
    """Downgrade schema (the authors given stay: they are right under 0006 too)."""
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_webhook_deliveries_redelivery_of_webhook_deliveries"),
            type_="foreignkey",
        )
        batch_op.drop_column("redelivery_of")
    for name in NEW_INDEXES:
        op.drop_index(name, table_name="assessments")
    for name, columns in OLD_INDEXES.items():
        op.create_index(name, "assessments", columns, unique=False)
