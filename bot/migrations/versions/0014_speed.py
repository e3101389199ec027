"""speed: an insert sentinel on the tables written most (events, outbox, incident alerts,
deadlines), so that SQLite too inserts many rows in one statement and still gets each row's key
back in order (SQLAlchemy's "insertmanyvalues"; PostgreSQL orders them without it)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("events", "outbox", "incident_alerts", "deadlines")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("_sentinel", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("_sentinel")
