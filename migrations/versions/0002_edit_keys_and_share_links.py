"""edit keys and share links

Revision ID: 0002
Revises: 0001

Every assessment gets an edit key, stored as its SHA-256. Existing assessments get a random
key that nobody knows: their owners make a new one with `advisor assessments key ID`.
"""

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edit_key_hash", sa.String(length=64), nullable=True))

    assessments = sa.table(
        "assessments", sa.column("id", sa.String), sa.column("edit_key_hash", sa.String)
    )
    connection = op.get_bind()
    ids = connection.execute(sa.select(assessments.c.id)).scalars().all()
    for assessment_id in ids:
        # A key nobody is told: the row is reachable again only through a rotated key.
        unknown = hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest()
        connection.execute(
            assessments.update()
            .where(assessments.c.id == assessment_id)
            .values(edit_key_hash=unknown)
        )

    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.alter_column("edit_key_hash", existing_type=sa.String(length=64), nullable=False)

    op.create_table(
        "share_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_share_links_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_share_links_token_hash")),
    )
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_links_assessment_id"), ["assessment_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_links_assessment_id"))
    op.drop_table("share_links")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_column("edit_key_hash")
