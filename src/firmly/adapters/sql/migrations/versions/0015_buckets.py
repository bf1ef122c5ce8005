"""Deciding shared by buckets of counterparties (domain/buckets.py): each waiting event carries its bucket, so
that deciders take a bucket at a time instead of the whole workspace; `deciders` holds their leases. How far
deciding has come is read off the waiting events themselves (the first of them), so `workspaces.decided_seq`,
which every decider would have had to update in turn, goes. On PostgreSQL, a narrow way through row-level
security (see 0014_row_security) lets a decider list the workspaces with events waiting: `deciding`, reading
`arrivals`.

Revision ID: 0015_buckets
Revises: 0014_row_security
"""

from __future__ import annotations

from zlib import crc32

import sqlalchemy as sa
from alembic import op

revision = "0015_buckets"
down_revision = "0014_row_security"
branch_labels = None
depends_on = None

BUCKETS = 256  # domain/buckets.py, as it was when this ran
THROUGH = "current_setting('firmly.through', true) = 'deciding'"


def upgrade() -> None:
    op.add_column("arrivals", sa.Column("bucket", sa.SmallInteger, nullable=True))
    conn = op.get_bind()
    postgresql = conn.dialect.name == "postgresql"
    if postgresql:  # the events waiting now, of every workspace: the owner past row-level security, for this
        op.execute('ALTER TABLE "arrivals" NO FORCE ROW LEVEL SECURITY')
    waiting = conn.execute(sa.text("SELECT DISTINCT counterparty FROM arrivals")).scalars().all()
    for key in waiting:
        conn.execute(sa.text("UPDATE arrivals SET bucket = :b WHERE counterparty = :k"),
                     {"b": crc32(key.encode()) % BUCKETS, "k": key})
    with op.batch_alter_table("arrivals") as batch:
        batch.alter_column("bucket", existing_type=sa.SmallInteger, nullable=False)
    if postgresql:
        op.execute('ALTER TABLE "arrivals" FORCE ROW LEVEL SECURITY')
        # A table that fills and empties all day: vacuum leaves its empty pages (cutting them off takes a lock
        # that stops every append and decider of every workspace for that moment)
        op.execute('ALTER TABLE "arrivals" SET (vacuum_truncate = false)')
        op.execute(f'CREATE POLICY firmly_through_deciding_select ON "arrivals" FOR SELECT USING ({THROUGH})')
    op.create_index("ix_arrivals_bucket", "arrivals", ["workspace", "bucket", "seq"])
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("decided_seq")
    op.create_table(
        "deciders",
        sa.Column("holder", sa.String(200), primary_key=True),
        sa.Column("seen_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deciders")
    postgresql = op.get_bind().dialect.name == "postgresql"
    tables = ("arrivals", "workspaces")
    if postgresql:
        op.execute('DROP POLICY firmly_through_deciding_select ON "arrivals"')
        for table in tables:  # every workspace's row, by the owner
            op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.add_column("workspaces", sa.Column("decided_seq", sa.BigInteger, nullable=True))
    op.execute("UPDATE workspaces SET decided_seq = COALESCE((SELECT MIN(seq) FROM arrivals "
               "WHERE arrivals.workspace = workspaces.id), next_seq)")
    if postgresql:
        for table in tables:
            op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    with op.batch_alter_table("workspaces") as batch:
        batch.alter_column("decided_seq", existing_type=sa.BigInteger, nullable=False)
    op.drop_index("ix_arrivals_bucket", table_name="arrivals")
    with op.batch_alter_table("arrivals") as batch:
        batch.drop_column("bucket")
