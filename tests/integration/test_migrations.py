"""The migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.adapters.sql.tables import metadata
from firmly.service import workspace
from tests.conftest import database_of_its_own


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


@pytest.fixture
def fresh_url(database_url: str) -> Iterator[str]:
    """A database no test has migrated yet: SQLite's file is the test's own; PostgreSQL's is made for it."""
    with database_of_its_own(database_url, "firmly_upgrade") as url:
        yield url


def test_workspaces_that_were_there_before_asynchronous_posts_start_fully_decided(fresh_url: str) -> None:
    """Upgraded from the revision before it, a workspace's events are all decided: `decided` = `events`."""
    from alembic import command  # noqa: PLC0415 - this test alone steps through revisions
    from alembic.config import Config  # noqa: PLC0415

    from firmly.adapters.sql import migrate  # noqa: PLC0415

    engine = make_engine(fresh_url)
    with engine.connect() as conn:
        conn.info["write"] = True
        config = Config()
        config.set_main_option("script_location", str(migrate.MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0012")
        conn.execute(text("INSERT INTO workspaces (id, locale, timezone, clock, ticked, next_seq, created_at) "
                          "VALUES ('before', 'en', 'Europe/London', NULL, NULL, 42, 0)"))
        command.upgrade(config, "head")
        conn.commit()
    store = SqlStore(engine, "before")
    with store.read():
        info = store.workspace_info()
        assert info is not None and (info.events, info.decided, info.pending) == (42, 42, 0)
        assert store.staged_events(10) == []
    engine.dispose()
