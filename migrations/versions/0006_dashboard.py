"""dashboard

Revision ID: 0006
Revises: 0005

The team dashboard and webhooks (issue 13, docs/adr/0013): each assessment's primary
approach, denormalised and kept in step by a trigger on snapshots, and its author (set by
`create_assessment`; existing rows from their owner or first signed-in answer); the indexes
the dashboard's filters and sorts read; the search documents (titles and live comments) with
their full-text index (SQLite FTS5, PostgreSQL GIN over `to_tsvector`), kept in step by
triggers; each team's counts by status and primary approach, kept in step by triggers (the
dashboard's first page counts nothing); and each team's webhook, its deliveries and their
attempts.

A later SQLite batch migration that rebuilds `assessments`, `review_comments`,
`recommendation_snapshots` or `search_documents` drops their triggers with the old
table: it must create them again (`tests/web/api/test_dashboard.py` checks they exist at head).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DASHBOARD_INDEXES = {
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

# SQLite: the full-text index reads its text from `search_documents` (external content), and
# these triggers keep the three layers in step: assessments and comments -> documents -> index.
SQLITE_TRIGGERS = {
    "tr_snapshots_primary": """
        CREATE TRIGGER tr_snapshots_primary AFTER INSERT ON recommendation_snapshots
        BEGIN
            UPDATE assessments SET primary_approach = json_extract(NEW.recommendation, '$.primary')
            WHERE id = NEW.assessment_id;
        END""",
    "tr_assessments_created": """
        CREATE TRIGGER tr_assessments_created AFTER INSERT ON assessments
        BEGIN
            INSERT INTO search_documents (assessment_id, comment_id, body)
            SELECT NEW.id, NULL, NEW.title WHERE coalesce(NEW.title, '') != '';
        END""",
    "tr_assessments_title": """
        CREATE TRIGGER tr_assessments_title AFTER UPDATE OF title ON assessments
        BEGIN
            DELETE FROM search_documents WHERE assessment_id = NEW.id AND comment_id IS NULL;
            INSERT INTO search_documents (assessment_id, comment_id, body)
            SELECT NEW.id, NULL, NEW.title WHERE coalesce(NEW.title, '') != '';
        END""",
    "tr_comments_created": """
        CREATE TRIGGER tr_comments_created AFTER INSERT ON review_comments
        WHEN NEW.deleted_at IS NULL AND NEW.body != ''
        BEGIN
            INSERT INTO search_documents (assessment_id, comment_id, body)
            VALUES (NEW.assessment_id, NEW.id, NEW.body);
        END""",
    "tr_comments_changed": """
        CREATE TRIGGER tr_comments_changed AFTER UPDATE OF body, deleted_at ON review_comments
        BEGIN
            DELETE FROM search_documents WHERE comment_id = NEW.id;
            INSERT INTO search_documents (assessment_id, comment_id, body)
            SELECT NEW.assessment_id, NEW.id, NEW.body
            WHERE NEW.deleted_at IS NULL AND NEW.body != '';
        END""",
    "tr_assessments_counted": """
        CREATE TRIGGER tr_assessments_counted AFTER INSERT ON assessments
        WHEN NEW.team_id IS NOT NULL
        BEGIN
            INSERT INTO team_assessment_counts (team_id, status, primary_approach, assessments)
            VALUES (NEW.team_id, NEW.status, coalesce(NEW.primary_approach, ''), 1)
            ON CONFLICT (team_id, status, primary_approach)
            DO UPDATE SET assessments = assessments + 1;
        END""",
    "tr_assessments_uncounted": """
        CREATE TRIGGER tr_assessments_uncounted AFTER DELETE ON assessments
        WHEN OLD.team_id IS NOT NULL
        BEGIN
            UPDATE team_assessment_counts SET assessments = assessments - 1
            WHERE team_id = OLD.team_id AND status = OLD.status
            AND primary_approach = coalesce(OLD.primary_approach, '');
        END""",
    "tr_assessments_recounted": """
        CREATE TRIGGER tr_assessments_recounted
        AFTER UPDATE OF team_id, status, primary_approach ON assessments
        BEGIN
            UPDATE team_assessment_counts SET assessments = assessments - 1
            WHERE OLD.team_id IS NOT NULL AND team_id = OLD.team_id AND status = OLD.status
            AND primary_approach = coalesce(OLD.primary_approach, '');
            INSERT INTO team_assessment_counts (team_id, status, primary_approach, assessments)
            SELECT NEW.team_id, NEW.status, coalesce(NEW.primary_approach, ''), 1
            WHERE NEW.team_id IS NOT NULL
            ON CONFLICT (team_id, status, primary_approach)
            DO UPDATE SET assessments = assessments + 1;
        END""",
    "tr_search_documents_insert": """
        CREATE TRIGGER tr_search_documents_insert AFTER INSERT ON search_documents
        BEGIN
            INSERT INTO search_documents_fts (rowid, body) VALUES (NEW.id, NEW.body);
        END""",
    "tr_search_documents_delete": """
        CREATE TRIGGER tr_search_documents_delete AFTER DELETE ON search_documents
        BEGIN
            INSERT INTO search_documents_fts (search_documents_fts, rowid, body)
            VALUES ('delete', OLD.id, OLD.body);
        END""",
    "tr_search_documents_update": """
        CREATE TRIGGER tr_search_documents_update AFTER UPDATE ON search_documents
        BEGIN
            INSERT INTO search_documents_fts (search_documents_fts, rowid, body)
            VALUES ('delete', OLD.id, OLD.body);
            INSERT INTO search_documents_fts (rowid, body) VALUES (NEW.id, NEW.body);
        END""",
}

# PostgreSQL: one function per trigger; the GIN index is over an expression of the documents.
POSTGRES_FUNCTIONS = {
    "advisor_snapshot_primary": """
        BEGIN
            UPDATE assessments SET primary_approach = NEW.recommendation ->> 'primary'
            WHERE id = NEW.assessment_id;
            RETURN NULL;
        END""",
    "advisor_assessment_count": """
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.team_id IS NOT NULL THEN
                UPDATE team_assessment_counts SET assessments = assessments - 1
                WHERE team_id = OLD.team_id AND status = OLD.status
                AND primary_approach = coalesce(OLD.primary_approach, '');
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.team_id IS NOT NULL THEN
                INSERT INTO team_assessment_counts (team_id, status, primary_approach, assessments)
                VALUES (NEW.team_id, NEW.status, coalesce(NEW.primary_approach, ''), 1)
                ON CONFLICT (team_id, status, primary_approach)
                DO UPDATE SET assessments = team_assessment_counts.assessments + 1;
            END IF;
            RETURN NULL;
        END""",
    "advisor_assessment_title": """
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                IF NEW.title IS NOT DISTINCT FROM OLD.title THEN
                    RETURN NULL;
                END IF;
                DELETE FROM search_documents
                WHERE assessment_id = NEW.id AND comment_id IS NULL;
            END IF;
            IF coalesce(NEW.title, '') != '' THEN
                INSERT INTO search_documents (assessment_id, comment_id, body)
                VALUES (NEW.id, NULL, NEW.title);
            END IF;
            RETURN NULL;
        END""",
    "advisor_comment_search": """
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM search_documents WHERE comment_id = NEW.id;
            END IF;
            IF NEW.deleted_at IS NULL AND NEW.body != '' THEN
                INSERT INTO search_documents (assessment_id, comment_id, body)
                VALUES (NEW.assessment_id, NEW.id, NEW.body);
            END IF;
            RETURN NULL;
        END""",
}
POSTGRES_TRIGGERS = {
    "tr_snapshots_primary": (
        "AFTER INSERT ON recommendation_snapshots FOR EACH ROW",
        "advisor_snapshot_primary",
    ),
    "tr_assessments_count": (
        "AFTER INSERT OR DELETE OR UPDATE OF team_id, status, primary_approach ON assessments"
        " FOR EACH ROW",
        "advisor_assessment_count",
    ),
    "tr_assessments_title": (
        "AFTER INSERT OR UPDATE OF title ON assessments FOR EACH ROW",
        "advisor_assessment_title",
    ),
    "tr_comments_search": (
        "AFTER INSERT OR UPDATE OF body, deleted_at ON review_comments FOR EACH ROW",
        "advisor_comment_search",
    ),
}
POSTGRES_TRIGGER_TABLES = {
    "tr_snapshots_primary": "recommendation_snapshots",
    "tr_assessments_count": "assessments",
    "tr_assessments_title": "assessments",
    "tr_comments_search": "review_comments",
}


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("primary_approach", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("author_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_assessments_author_id_users"),
            "users",
            ["author_id"],
            ["id"],
            ondelete="SET NULL",
        )
        for name, columns in DASHBOARD_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)

    # Existing rows: the newest snapshot's primary; the owning user, else the first answer's
    # author.
    primary = (
        "json_extract(s.recommendation, '$.primary')"
        if dialect == "sqlite"
        else "s.recommendation ->> 'primary'"
    )
    op.execute(
        f"UPDATE assessments SET primary_approach = (SELECT {primary}"
        " FROM recommendation_snapshots s WHERE s.assessment_id = assessments.id"
        " ORDER BY s.id DESC LIMIT 1)"
    )
    op.execute(
        "UPDATE assessments SET author_id = coalesce(owner_user_id, (SELECT a.author_id"
        " FROM answers a WHERE a.assessment_id = assessments.id AND a.author_id IS NOT NULL"
        " ORDER BY a.id LIMIT 1))"
    )

    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessments.id"],
            name=op.f("fk_search_documents_assessment_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["review_comments.id"],
            name=op.f("fk_search_documents_comment_id_review_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_search_documents_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_search_documents_comment_id"), ["comment_id"], unique=False
        )

    op.create_table(
        "team_assessment_counts",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("primary_approach", sa.String(length=32), nullable=False),
        sa.Column("assessments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_assessment_counts_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "team_id", "status", "primary_approach", name=op.f("pk_team_assessment_counts")
        ),
    )
    op.execute(
        "INSERT INTO team_assessment_counts (team_id, status, primary_approach, assessments)"
        " SELECT team_id, status, coalesce(primary_approach, ''), count(*) FROM assessments"
        " WHERE team_id IS NOT NULL GROUP BY team_id, status, coalesce(primary_approach, '')"
    )

    if dialect == "sqlite":
        # Porter stems English words (approve, approved, approval), as PostgreSQL's 'english'.
        op.execute(
            "CREATE VIRTUAL TABLE search_documents_fts USING fts5(body,"
            " content='search_documents', content_rowid='id',"
            " tokenize='porter unicode61 remove_diacritics 2')"
        )
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    else:
        op.execute(
            "CREATE INDEX ix_search_documents_body_tsv ON search_documents"
            " USING gin (to_tsvector('english', body))"
        )
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
        for name, (when, function) in POSTGRES_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}()")

    # Titles and live comments written before this revision (the triggers fill the index).
    op.execute(
        "INSERT INTO search_documents (assessment_id, comment_id, body)"
        " SELECT id, NULL, title FROM assessments WHERE coalesce(title, '') != ''"
    )
    op.execute(
        "INSERT INTO search_documents (assessment_id, comment_id, body)"
        " SELECT assessment_id, id, body FROM review_comments"
        " WHERE deleted_at IS NULL AND body != ''"
    )

    op.create_table(
        "team_webhooks",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_webhooks_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_team_webhooks")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_webhook_deliveries_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_state_next_attempt_at",
            ["state", "next_attempt_at"],
            unique=False,
        )
        batch_op.create_index("ix_webhook_deliveries_team_id_id", ["team_id", "id"], unique=False)
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_attempts_delivery_id_id", ["delivery_id", "id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_attempts_delivery_id_id")
    op.drop_table("webhook_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_team_id_id")
        batch_op.drop_index("ix_webhook_deliveries_state_next_attempt_at")
    op.drop_table("webhook_deliveries")
    op.drop_table("team_webhooks")

    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_documents_fts")
    else:
        for name, table in POSTGRES_TRIGGER_TABLES.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for name in POSTGRES_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        op.execute("DROP INDEX IF EXISTS ix_search_documents_body_tsv")
    op.drop_table("team_assessment_counts")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_documents_comment_id"))
        batch_op.drop_index(batch_op.f("ix_search_documents_assessment_id"))
    op.drop_table("search_documents")

    with op.batch_alter_table("assessments", schema=None) as batch_op:
        for name in DASHBOARD_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_constraint(batch_op.f("fk_assessments_author_id_users"), type_="foreignkey")
        batch_op.drop_column("author_id")
        batch_op.drop_column("primary_approach")
