"""incidents, alerts and bot state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 05:24:04.188807
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "bot_state",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_bot_state")),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location_text", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("occurred_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", bot.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reporter_id", sa.String(length=64), nullable=False),
        sa.Column("dead", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("injured", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("missing", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("trapped", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", bot.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "duplicate_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["people.id"], name=op.f("fk_incidents_assignee_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["incidents.id"], name=op.f("fk_incidents_duplicate_of_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["people.id"], name=op.f("fk_incidents_reporter_id_people")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_incidents_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index("ix_incidents_assignee", ["assignee_id", "state"], unique=False)
        batch_op.create_index("ix_incidents_reporter", ["reporter_id", "id"], unique=False)
        batch_op.create_index("ix_incidents_unit_state", ["unit_id", "state"], unique=False)

    op.create_table(
        "incident_alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "incident_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("chat_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_alerts_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_incident_alerts_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_alerts")),
    )
    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_incident_alerts_incident", ["incident_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("incident_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_alerts_incident")

    op.drop_table("incident_alerts")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_unit_state")
        batch_op.drop_index("ix_incidents_reporter")
        batch_op.drop_index("ix_incidents_assignee")

    op.drop_table("incidents")
    op.drop_table("bot_state")
