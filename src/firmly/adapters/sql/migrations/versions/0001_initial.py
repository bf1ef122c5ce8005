"""The first schema: workspaces, rulebooks, the event log, counterparties and decisions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("clock", sa.BigInteger, nullable=True),
        sa.Column("ticked", sa.BigInteger, nullable=True),
        sa.Column("next_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "rulebooks",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("version", sa.String(100), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("loaded_at", sa.BigInteger, nullable=False),
        sa.Column("effective_from", sa.BigInteger, nullable=True),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("counterparty", sa.String(200), nullable=False),
        sa.Column("partner", sa.String(200), nullable=True),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
    )
    op.create_index("ix_events_id", "events", ["workspace", "id"], unique=True)
    op.create_index("ix_events_counterparty", "events", ["workspace", "counterparty"])
    op.create_index("ix_events_partner", "events", ["workspace", "partner"],
                    sqlite_where=sa.text("partner IS NOT NULL"), postgresql_where=sa.text("partner IS NOT NULL"))
    op.create_table(
        "counterparties",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("tier", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("next_wake", sa.BigInteger, nullable=True),
        sa.Column("state", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_counterparties_wake", "counterparties", ["workspace", "next_wake"])
    op.create_table(
        "decisions",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("counterparty", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(100), nullable=True),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("amount", sa.String(40), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("event", sa.String(200), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("step", sa.Integer, nullable=True),
        sa.Column("version", sa.String(200), nullable=True),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
    )
    op.create_index("ix_decisions_counterparty", "decisions", ["workspace", "counterparty", "at"])
    op.create_index("ix_decisions_open", "decisions", ["workspace", "status"],
                    sqlite_where=sa.text("status IN ('proposed', 'scheduled')"),
                    postgresql_where=sa.text("status IN ('proposed', 'scheduled')"))


def downgrade() -> None:
    for table in ("decisions", "counterparties", "events", "rulebooks", "workspaces"):
        op.drop_table(table)
