"""incidents: when the incident reached its current unit (the acceptance clock's start)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unit_since", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE incidents SET unit_since = reported_at WHERE unit_since IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("unit_since")
