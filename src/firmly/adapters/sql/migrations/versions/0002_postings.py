"""The ledger: one row per double-entry posting.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postings",
        sa.Column("workspace", sa.String(100), primary_key=True),
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("counterparty", sa.String(200), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("debit", sa.String(20), nullable=False),
        sa.Column("credit", sa.String(20), nullable=False),
        sa.Column("amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("event", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(40), nullable=True),
        sa.Column("service", sa.String(100), nullable=True),
        sa.Column("memo", sa.String(40), nullable=False),
    )
    op.create_index("ix_postings_counterparty", "postings", ["workspace", "counterparty", "at", "n"])


def downgrade() -> None:
    op.drop_table("postings")
