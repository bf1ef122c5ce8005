"""Alembic environment: migrations run on the connection firmly hands over (see migrate.py)."""

from __future__ import annotations

from alembic import context

from firmly.adapters.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
