"""Connectors: inbound webhooks per workspace, their aliases, payloads kept for audit, dead letters and the
visits `attended_after` will record.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace", sa.String(100), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_connectors_workspace", "connectors", ["workspace"])
    op.create_table(
        "connector_aliases",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("connector", sa.String(40), primary_key=True),
        sa.Column("vendor_id", sa.String(300), primary_key=True),
        sa.Column("appointment", sa.String(300), nullable=False),
    )
    op.create_table(
        "connector_payloads",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("connector", sa.String(40), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "connector_events",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("event", sa.String(200), primary_key=True),
        sa.Column("connector", sa.String(40), nullable=False),
        sa.Column("payload", sa.String(64), nullable=False),
    )
    op.create_index("ix_connector_events_connector", "connector_events", ["workspace", "connector"])
    op.create_table(
        "connector_failures",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("connector", sa.String(40), nullable=False),
        sa.Column("received_at", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index("ix_connector_failures_connector", "connector_failures", ["workspace", "connector", "status"])
    op.create_table(
        "connector_attendance",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("appointment", sa.String(300), primary_key=True),
        sa.Column("connector", sa.String(40), nullable=False),
        sa.Column("counterparty", sa.String(200), nullable=False),
        sa.Column("due", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_connector_attendance_due", "connector_attendance", ["workspace", "due"])


def downgrade() -> None:
    for table in ("connector_attendance", "connector_failures", "connector_events", "connector_payloads",
                  "connector_aliases", "connectors"):
        op.drop_table(table)
