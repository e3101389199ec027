"""invite codes: revoked by a newer one; a redemption waiting for an administrator to confirm
that a linked person moves to another Telegram account; alert copies that are a digest line;
the index behind /status pages (level, then number)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invite_codes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("revoked_at", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "move_telegram_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )

    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_index("ix_incidents_level_id", "incidents", ["level", "id"])


def downgrade() -> None:
    op.drop_index("ix_incidents_level_id", table_name="incidents")
    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.drop_column("digest")
    with op.batch_alter_table("invite_codes", schema=None) as batch_op:
        batch_op.drop_column("move_telegram_id")
        batch_op.drop_column("revoked_at")
