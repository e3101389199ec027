"""the /status counts without reading every open incident: a deadline remembers when its warning
fired (``warned_at``, filled in from the warnings already fired), an index over deadlines by
state, kind and due time, a partial index over the warned ones, and an incident's deadlines
indexed down to their due time

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WARNED = "warned_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warned_at", bot.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    # every deadline whose warning has fired; the warning is found through the incident's
    # index (incident, kind, state), so this reads the fired warnings once
    op.execute(
        """
        UPDATE deadlines SET warned_at = (
            SELECT min(coalesce(w.fired_at, w.due_at)) FROM deadlines AS w
            WHERE w.incident_id = deadlines.incident_id AND w.kind = 'warning'
              AND w.state = 'fired' AND w.parent_id = deadlines.id
        )
        WHERE id IN (
            SELECT parent_id FROM deadlines WHERE kind = 'warning' AND state = 'fired'
        )
        """
    )
    # an incident's deadlines by kind and state, then due time: what comes first is read here
    op.drop_index("ix_deadlines_incident", table_name="deadlines")
    op.create_index(
        "ix_deadlines_incident", "deadlines", ["incident_id", "kind", "state", "due_at"]
    )
    op.create_index(
        "ix_deadlines_state_kind_due", "deadlines", ["state", "kind", "due_at", "incident_id"]
    )
    op.create_index(
        "ix_deadlines_warned",
        "deadlines",
        ["state", "incident_id"],
        sqlite_where=sa.text(WARNED),
        postgresql_where=sa.text(WARNED),
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_warned", table_name="deadlines")
    op.drop_index("ix_deadlines_state_kind_due", table_name="deadlines")
    op.drop_index("ix_deadlines_incident", table_name="deadlines")
    op.create_index("ix_deadlines_incident", "deadlines", ["incident_id", "kind", "state"])
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_column("warned_at")
