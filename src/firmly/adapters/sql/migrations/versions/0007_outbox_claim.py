"""The token of the claim an outbox message is being sent under, so a worker whose claim ran out and was
taken over can neither send the message nor mark it.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claim", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "claim")
