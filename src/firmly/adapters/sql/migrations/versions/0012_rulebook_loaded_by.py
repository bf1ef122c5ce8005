"""Rulebook versions say who loaded them: the signed-in person in the web UI, the OS user (or --by) of
`firmly rulebook load`. Versions loaded before keep it empty.

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rulebooks", sa.Column("loaded_by", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rulebooks") as batch:
        batch.drop_column("loaded_by")
