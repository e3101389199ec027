"""duty discipline: shift changes (handovers), spot checks, swaps

Revision ID: 0009
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0009"
down_revision = "0010"
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, bot.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "duty_shifts",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        _time("starts_at"),
        sa.Column("incoming", sa.JSON(), nullable=False),
        sa.Column("outgoing", sa.JSON(), nullable=False),
        sa.Column("handover", sa.Boolean(), nullable=False),
        _time("taken_over_at", True),
        sa.Column("taken_over_by", sa.String(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_shifts")),
        sa.UniqueConstraint("unit_id", "starts_at", name=op.f("uq_duty_shifts_unit_id")),
    )
    op.create_table(
        "spot_checks",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("asked_by", sa.String(length=64), nullable=True),
        _time("asked_at"),
        _time("due_at"),
        sa.Column("officers", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        _time("answered_at", True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_checks")),
    )
    with op.batch_alter_table("spot_checks", schema=None) as batch_op:
        batch_op.create_index("ix_spot_checks_unit", ["unit_id", "asked_at"], unique=False)
    op.create_table(
        "swaps",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.String(length=16), nullable=False),
        sa.Column("requester_id", sa.String(length=64), nullable=False),
        sa.Column("colleague_id", sa.String(length=64), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        sa.Column("state", sa.String(length=12), nullable=False),
        _time("requested_at"),
        _time("decided_at", True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_swaps")),
    )
    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.create_index("ix_swaps_state", ["state", "ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("swaps", schema=None) as batch_op:
        batch_op.drop_index("ix_swaps_state")
    op.drop_table("swaps")
    with op.batch_alter_table("spot_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_spot_checks_unit")
    op.drop_table("spot_checks")
    op.drop_table("duty_shifts")
