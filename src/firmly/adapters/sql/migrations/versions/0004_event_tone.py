"""The tone of a message, kept with its event.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("tone", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("events", "tone")
