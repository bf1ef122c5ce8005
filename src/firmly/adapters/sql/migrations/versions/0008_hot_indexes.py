"""Indexes for every query on a hot path: a partner's reviews, events of one type, a kind of counterparty,
the invoices issued and a workspace's messages by status.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PARTNER = sa.text("partner IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_events_counterparty", table_name="events")
    op.create_index("ix_events_counterparty", "events", ["workspace", "counterparty", "type"])
    op.drop_index("ix_events_partner", table_name="events")
    op.create_index("ix_events_partner", "events", ["workspace", "partner", "type"],
                    sqlite_where=_PARTNER, postgresql_where=_PARTNER)
    op.create_index("ix_events_type", "events", ["workspace", "type"])
    op.create_index("ix_counterparties_kind", "counterparties", ["workspace", "kind"])
    op.create_index("ix_decisions_action", "decisions", ["workspace", "action"])
    op.create_index("ix_outbox_status", "outbox", ["workspace", "status", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status", table_name="outbox")
    op.drop_index("ix_decisions_action", table_name="decisions")
    op.drop_index("ix_counterparties_kind", table_name="counterparties")
    op.drop_index("ix_events_type", table_name="events")
    op.drop_index("ix_events_partner", table_name="events")
    op.create_index("ix_events_partner", "events", ["workspace", "partner"],
                    sqlite_where=_PARTNER, postgresql_where=_PARTNER)
    op.drop_index("ix_events_counterparty", table_name="events")
    op.create_index("ix_events_counterparty", "events", ["workspace", "counterparty"])
