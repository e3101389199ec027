"""directives (督办): the directive, its extension requests, and deadlines that belong to one

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, bot.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "directives",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("lead_unit_id", sa.String(length=64), nullable=False),
        sa.Column("assisting", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("incident_id", BigInt, nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        _time("issued_at"),
        _time("due_at"),
        _time("received_at", True),
        sa.Column("received_by", sa.String(length=64), nullable=True),
        sa.Column("receive_late", sa.Boolean(), nullable=False),
        _time("completed_at", True),
        _time("closed_at", True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("sent_back", sa.Integer(), nullable=False),
        _time("reminded_at", True),
        _time("feedback_at", True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_directives_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directives")),
    )
    op.create_index("ix_directives_lead", "directives", ["lead_unit_id", "state"])
    op.create_index("ix_directives_issuer", "directives", ["issuer_id", "id"])
    op.create_index("ix_directives_incident", "directives", ["incident_id"])
    op.create_table(
        "directive_requests",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("directive_id", BigInt, nullable=False),
        _time("until"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        _time("requested_at"),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        _time("decided_at", True),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directives.id"],
            name=op.f("fk_directive_requests_directive_id_directives"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive_requests")),
    )
    op.create_index(
        "ix_directive_requests_directive", "directive_requests", ["directive_id", "state"]
    )
    # Not a batch (SQLite would copy the table, and the copy of rows pointing at their parent
    # deadline breaks the foreign key): SQLite adds a column with its REFERENCES clause in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE deadlines ADD COLUMN directive_id INTEGER "
            "CONSTRAINT fk_deadlines_directive_id_directives REFERENCES directives (id)"
        )
    else:
        op.add_column("deadlines", sa.Column("directive_id", BigInt, nullable=True))
        op.create_foreign_key(
            op.f("fk_deadlines_directive_id_directives"),
            "deadlines",
            "directives",
            ["directive_id"],
            ["id"],
        )
    op.create_index("ix_deadlines_directive", "deadlines", ["directive_id", "kind", "state"])


def downgrade() -> None:
    op.drop_index("ix_deadlines_directive", table_name="deadlines")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_deadlines_directive_id_directives"), type_="foreignkey")
        batch_op.drop_column("directive_id")
    op.drop_index("ix_directive_requests_directive", table_name="directive_requests")
    op.drop_table("directive_requests")
    op.drop_index("ix_directives_incident", table_name="directives")
    op.drop_index("ix_directives_issuer", table_name="directives")
    op.drop_index("ix_directives_lead", table_name="directives")
    op.drop_table("directives")
