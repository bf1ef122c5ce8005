"""Events may be acknowledged before they are decided (`Prefer: respond-async`): such events wait in
`arrivals` until they are decided, and `workspaces.decided_seq` says how far deciding has come (every event
with a seq below it is decided). Existing workspaces start fully decided.

Revision ID: 0013_decided_through
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_decided_through"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("decided_seq", sa.BigInteger, nullable=True))
    op.execute("UPDATE workspaces SET decided_seq = next_seq")
    with op.batch_alter_table("workspaces") as batch:
        batch.alter_column("decided_seq", existing_type=sa.BigInteger, nullable=False)
    op.create_table(
        "arrivals",
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
        sa.Column("tone", sa.Text, nullable=True),
        sa.Column("batch", sa.BigInteger, nullable=False),
        sa.Column("arrived_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_arrivals_id", "arrivals", ["workspace", "id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_arrivals_id", table_name="arrivals")
    op.drop_table("arrivals")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("decided_seq")
