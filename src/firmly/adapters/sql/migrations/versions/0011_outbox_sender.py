"""The outbox's sender (one of the workspace's `senders`: From and Reply-To) and a note when a message went
elsewhere than its ladder step asked.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("sender", sa.Text, nullable=True))
    op.add_column("outbox", sa.Column("sender_name", sa.Text, nullable=True))
    op.add_column("outbox", sa.Column("note", sa.Text, nullable=True))


def downgrade() -> None:
    for column in ("note", "sender_name", "sender"):
        op.drop_column("outbox", column)
