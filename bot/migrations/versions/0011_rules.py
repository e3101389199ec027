"""rules: officers' requests (dismiss, level down, drill) waiting for the leader on duty; an
incident's source and caller (phone intake)

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=12), nullable=False, server_default="field")
        )
        batch_op.add_column(sa.Column("caller_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("caller_org", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("caller_phone", sa.String(length=60), nullable=True))
    op.create_table(
        "change_requests",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("incident_id", BigInt, nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_change_requests_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["people.id"], name=op.f("fk_change_requests_requested_by_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index("ix_change_requests_incident", ["incident_id", "state"], unique=False)

    op.create_table(
        "follows",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("since", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_follows_person_id_people")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_follows_unit_id_units")),
        sa.PrimaryKeyConstraint("person_id", "unit_id", name=op.f("pk_follows")),
    )


def downgrade() -> None:
    op.drop_table("follows")
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_change_requests_incident")
    op.drop_table("change_requests")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        for column in ("caller_phone", "caller_org", "caller_name", "source"):
            batch_op.drop_column(column)
