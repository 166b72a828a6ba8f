"""counts by author and month

Revision ID: 0008
Revises: 0007

The team dashboard's running counts (issue 13, docs/adr/0019): `team_assessment_counts` is
keyed by author and by the month of `updated_at` (UTC, 'YYYY-MM') as well as by status and
primary approach, so that the counts by primary approach of an author filter, a date range
or both are summed from a few hundred rows instead of counting every matching assessment. A
date range that starts or ends inside a month counts only those edge days in the index.

The month moves with `updated_at`, which every answer writes: the update trigger fires only
when a counted key really changes (a `WHEN` on both databases), so an answer within the same
month costs one comparison.

`assessments` is not rebuilt: only its counting triggers are replaced.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_MONTH = "substr({row}.updated_at, 1, 7)"  # stored 'YYYY-MM-DD HH:MM:SS' in UTC
POSTGRES_MONTH = "to_char({row}.updated_at AT TIME ZONE 'UTC', 'YYYY-MM')"
KEY = "(team_id, author_id, month, status, primary_approach)"


def _values(row: str, month: str) -> str:
    """The counted key of `row` (NEW or OLD) as SQL values."""
    return (
        f"{row}.team_id, coalesce({row}.author_id, ''), {month.format(row=row)}, {row}.status,"
        f" coalesce({row}.primary_approach, '')"
    )


def _decrement(row: str, month: str) -> str:
    return (
        "UPDATE team_assessment_counts SET assessments = assessments - 1"
        f" WHERE {KEY} = ({_values(row, month)})"
    )


def _increment(month: str, *, table: str = "") -> str:
    return (
        f"INSERT INTO team_assessment_counts {KEY[:-1]}, assessments)"
        f" VALUES ({_values('NEW', month)}, 1) ON CONFLICT {KEY}"
        f" DO UPDATE SET assessments = {table}assessments + 1"
    )


def _changed(month: str) -> str:
    """True when an update moves the row to another count (SQL over OLD and NEW)."""
    columns = ("team_id", "author_id", "status", "primary_approach")
    moved = [f"OLD.{column} IS DISTINCT FROM NEW.{column}" for column in columns]
    moved.append(f"{month.format(row='OLD')} IS DISTINCT FROM {month.format(row='NEW')}")
    return " OR ".join(moved)


UPDATED_COLUMNS = "team_id, status, primary_approach, author_id, updated_at"

SQLITE_TRIGGERS = {
    "tr_assessments_counted": f"""
        CREATE TRIGGER tr_assessments_counted AFTER INSERT ON assessments
        WHEN NEW.team_id IS NOT NULL
        BEGIN
            {_increment(SQLITE_MONTH)};
        END""",
    "tr_assessments_uncounted": f"""
        CREATE TRIGGER tr_assessments_uncounted AFTER DELETE ON assessments
        WHEN OLD.team_id IS NOT NULL
        BEGIN
            {_decrement("OLD", SQLITE_MONTH)};
        END""",
    "tr_assessments_recounted": f"""
        CREATE TRIGGER tr_assessments_recounted AFTER UPDATE OF {UPDATED_COLUMNS} ON assessments
        WHEN {_changed(SQLITE_MONTH).replace("IS DISTINCT FROM", "IS NOT")}
        BEGIN
            {_decrement("OLD", SQLITE_MONTH)} AND OLD.team_id IS NOT NULL;
            INSERT INTO team_assessment_counts {KEY[:-1]}, assessments)
            SELECT {_values("NEW", SQLITE_MONTH)}, 1 WHERE NEW.team_id IS NOT NULL
            ON CONFLICT {KEY} DO UPDATE SET assessments = assessments + 1;
        END""",
}

POSTGRES_FUNCTION = f"""
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.team_id IS NOT NULL THEN
                {_decrement("OLD", POSTGRES_MONTH)};
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.team_id IS NOT NULL THEN
                {_increment(POSTGRES_MONTH, table="team_assessment_counts.")};
            END IF;
            RETURN NULL;
        END"""
POSTGRES_TRIGGERS = {
    "tr_assessments_count": "AFTER INSERT OR DELETE ON assessments FOR EACH ROW",
    "tr_assessments_recount": (
        f"AFTER UPDATE OF {UPDATED_COLUMNS} ON assessments FOR EACH ROW"
        f" WHEN ({_changed(POSTGRES_MONTH)})"
    ),
}

# 0006's counts (team, status, primary), for the downgrade.
OLD_SQLITE_TRIGGERS = {
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
}
OLD_POSTGRES_FUNCTION = """
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
        END"""


def _drop_counting_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON assessments")


def _create_counts(*key: sa.Column[str]) -> None:
    op.create_table(
        "team_assessment_counts",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        *key,
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
            "team_id",
            *(column.name for column in key),
            "status",
            "primary_approach",
            name=op.f("pk_team_assessment_counts"),
        ),
    )


def upgrade() -> None:
    """Upgrade schema."""
    dialect = op.get_bind().dialect.name
    month = SQLITE_MONTH if dialect == "sqlite" else POSTGRES_MONTH
    _drop_counting_triggers(dialect)
    op.drop_table("team_assessment_counts")
    _create_counts(
        sa.Column("author_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
    )
    op.execute(
        f"INSERT INTO team_assessment_counts {KEY[:-1]}, assessments)"
        f" SELECT team_id, coalesce(author_id, ''), {month.format(row='assessments')}, status,"
        " coalesce(primary_approach, ''), count(*) FROM assessments WHERE team_id IS NOT NULL"
        f" GROUP BY team_id, coalesce(author_id, ''), {month.format(row='assessments')}, status,"
        " coalesce(primary_approach, '')"
    )
    if dialect == "sqlite":
        for ddl in SQLITE_TRIGGERS.values():
            op.execute(ddl)
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION advisor_assessment_count() RETURNS trigger"
            f" LANGUAGE plpgsql AS $${POSTGRES_FUNCTION}$$"
        )
        for name, when in POSTGRES_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION advisor_assessment_count()")
        op.execute("ANALYZE team_assessment_counts")


def downgrade() -> None:
    """Downgrade schema: back to 0006's counts by status and primary approach."""
    dialect = op.get_bind().dialect.name
    _drop_counting_triggers(dialect)
    op.drop_table("team_assessment_counts")
    _create_counts()
    op.execute(
        "INSERT INTO team_assessment_counts (team_id, status, primary_approach, assessments)"
        " SELECT team_id, status, coalesce(primary_approach, ''), count(*) FROM assessments"
        " WHERE team_id IS NOT NULL GROUP BY team_id, status, coalesce(primary_approach, '')"
    )
    if dialect == "sqlite":
        for ddl in OLD_SQLITE_TRIGGERS.values():
            op.execute(ddl)
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION advisor_assessment_count() RETURNS trigger"
            f" LANGUAGE plpgsql AS $${OLD_POSTGRES_FUNCTION}$$"
        )
        op.execute(
            "CREATE TRIGGER tr_assessments_count AFTER INSERT OR DELETE OR UPDATE OF team_id,"
            " status, primary_approach ON assessments FOR EACH ROW"
            " EXECUTE FUNCTION advisor_assessment_count()"
        )
