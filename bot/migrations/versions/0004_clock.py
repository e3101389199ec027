"""reporting clock: deadlines and official reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 05:46:51.766762
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "deadlines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("sequence", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("fired_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("met_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_deadlines_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["deadlines.id"], name=op.f("fk_deadlines_parent_id_deadlines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadlines")),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index("ix_deadlines_due", ["state", "due_at"], unique=False)
        batch_op.create_index(
            "ix_deadlines_incident", ["incident_id", "kind", "state"], unique=False
        )

    op.create_table(
        "official_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("filed_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["people.id"], name=op.f("fk_official_reports_author_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_official_reports_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_reports")),
    )
    with op.batch_alter_table("official_reports", schema=None) as batch_op:
        batch_op.create_index("ix_official_reports_incident", ["incident_id", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("official_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_official_reports_incident")

    op.drop_table("official_reports")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_incident")
        batch_op.drop_index("ix_deadlines_due")

    op.drop_table("deadlines")
