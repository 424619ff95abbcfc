"""Login throttling in sliding windows: one row per counted attempt.

The counters of 0001 counted in fixed windows that started at a key's first
failure, so that at a window's end a whole new allowance began, right after
a full one. Counting the hits of the last window allows no such burst.
Counts in flight are not carried over (they expire within the window anyway).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import dragonhoard.models.meta

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("throttle_counters")
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_hits")),
    )
    op.create_index("ix_throttle_hits_key_at", "throttle_hits", ["key", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_throttle_hits_key_at", table_name="throttle_hits")
    op.drop_table("throttle_hits")
    op.create_table(
        "throttle_counters",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("window_start", dragonhoard.models.meta.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_counters")),
    )
