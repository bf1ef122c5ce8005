"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.adapters.sql.tables import metadata
from firmly.service import workspace


def test_migrations_match_the_declared_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    store = SqlStore(engine, "schema-check")
    workspace.init(store, "ru", "Europe/Moscow", 0)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_init_is_safe_to_run_again(database_url: str) -> None:
    engine = make_engine(database_url)
    store = SqlStore(engine, "twice")
    first = workspace.init(store, "en", "Europe/London", 0)
    again = workspace.init(store, None, None, 5)
    assert (again.locale, again.timezone) == (first.locale, first.timezone) == ("en", "Europe/London")
    tables = set(inspect(create_engine(str(engine.url))).get_table_names())
    assert {"workspaces", "rulebooks", "events", "counterparties", "decisions"} <= tables
