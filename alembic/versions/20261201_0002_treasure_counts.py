"""Treasure counts kept by triggers, and an index for "newest first" lists.

A list's total used to count every published treasure the caller may see:
a scan of tens of thousands of index entries on every list request. The
counts now live in one row that triggers keep exact, on PostgreSQL and on
SQLite alike.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

POSTGRES_FUNCTION = """
CREATE FUNCTION treasure_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total_delta bigint := 0;
    published_delta bigint := 0;
BEGIN
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
        IF TG_OP = 'INSERT' THEN
            total_delta := total_delta + 1;
        END IF;
        IF NEW.is_published THEN
            published_delta := published_delta + 1;
        END IF;
    END IF;
    IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN
        IF TG_OP = 'DELETE' THEN
            total_delta := total_delta - 1;
        END IF;
        IF OLD.is_published THEN
            published_delta := published_delta - 1;
        END IF;
    END IF;
    IF total_delta <> 0 OR published_delta <> 0 THEN
        UPDATE treasure_counts
        SET total = total + total_delta, published = published + published_delta
        WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER treasure_counts_follow
AFTER INSERT OR DELETE OR UPDATE OF is_published ON treasures
FOR EACH ROW EXECUTE FUNCTION treasure_counts_follow()
"""

SQLITE_TRIGGERS = (
    """CREATE TRIGGER treasure_counts_insert AFTER INSERT ON treasures BEGIN
       UPDATE treasure_counts SET total = total + 1,
           published = published + (CASE WHEN NEW.is_published THEN 1 ELSE 0 END) WHERE id = 1;
       END""",
    """CREATE TRIGGER treasure_counts_delete AFTER DELETE ON treasures BEGIN
       UPDATE treasure_counts SET total = total - 1,
           published = published - (CASE WHEN OLD.is_published THEN 1 ELSE 0 END) WHERE id = 1;
       END""",
    """CREATE TRIGGER treasure_counts_publish AFTER UPDATE OF is_published ON treasures
       WHEN NEW.is_published IS NOT OLD.is_published BEGIN
       UPDATE treasure_counts SET
           published = published + (CASE WHEN NEW.is_published THEN 1 ELSE -1 END) WHERE id = 1;
       END""",
)


def upgrade() -> None:
    op.create_table(
        "treasure_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treasure_counts")),
    )
    op.execute(
        "INSERT INTO treasure_counts (id, total, published) SELECT 1, count(*),"
        " coalesce(sum(CASE WHEN is_published THEN 1 ELSE 0 END), 0) FROM treasures"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    op.create_index("ix_treasures_created", "treasures", ["created_at", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_treasures_created", table_name="treasures")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER treasure_counts_follow ON treasures")
        op.execute("DROP FUNCTION treasure_counts_follow()")
    else:
        for name in ("insert", "delete", "publish"):
            op.execute(f"DROP TRIGGER treasure_counts_{name}")
    op.drop_table("treasure_counts")
