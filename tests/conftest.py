"""Shared fixtures: databases. SQLite always; PostgreSQL from FIRMLY_TEST_POSTGRES_URL.

In CI (CI=true) an unreachable PostgreSQL fails the PostgreSQL tests; elsewhere they are
skipped with a message that names the setting which enables them.

The tests connect to PostgreSQL as APP_ROLE, as firmly should run in production: a role that is no superuser
and cannot bypass row-level security, owning the database it migrates (so FORCE ROW LEVEL SECURITY applies to
it). The server URL's own user (a superuser, by default) only creates that role, and creates and drops the
databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

PG_SETTING = "FIRMLY_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
APP_ROLE = "firmly_app"  # CREATEDB: some tests make a database of their own, as this role
_CREATE_ROLE = f"""DO $$ BEGIN
    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- made already (by another test process)
END $$"""


def _pg_admin_url() -> str:
    return os.environ.get(PG_SETTING) or PG_DEFAULT


def _driver(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def as_app(url: str) -> str:
    """The same server and database, as APP_ROLE (no password: the test server trusts local connections)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{APP_ROLE}@{rest.rsplit('@', 1)[-1]}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin_url = _pg_admin_url()
    try:
        admin = create_engine(_driver(admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = (f"PostgreSQL is not reachable at {admin_url} ({type(exc).__name__}); "
                   f"set {PG_SETTING} to a server URL to run these tests")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    name = f"firmly_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(_CREATE_ROLE))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}'))
    base = as_app(admin_url).rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'firmly.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def in_workspace(conn: Connection, workspace: str) -> None:
    """Name the workspace of this transaction, as the store does: on PostgreSQL row-level security shows a
    connection only the rows of the workspace its transaction names (SQLite has none)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('firmly.workspace', :w, true)"), {"w": workspace})


def forget_workspace(url: str, workspace: str) -> None:
    """Remove every row of a workspace, so that a test starts it afresh on a PostgreSQL database that the
    earlier tests of this session (one per xdist worker) shared (a SQLite file is new for each test)."""
    from firmly.adapters.sql.tables import metadata  # noqa: PLC0415 - only the tests that reuse a name need it

    engine = create_engine(_driver(url) if url.startswith("postgresql://") else url)
    try:
        with engine.begin() as conn:
            if not conn.dialect.has_table(conn, "workspaces"):
                return
            in_workspace(conn, workspace)
            for table in reversed(metadata.sorted_tables):
                column = table.c.get("workspace")
                if column is None and table.name == "workspaces":
                    column = table.c.id
                if column is not None:
                    conn.execute(table.delete().where(column == workspace))
    finally:
        engine.dispose()


@contextmanager
def database_of_its_own(database_url: str, prefix: str) -> Iterator[str]:
    """`database_url` itself on SQLite (the test's own file); on PostgreSQL a database made for the test on the
    same server, under `prefix`, dropped afterwards."""
    if not database_url.startswith("postgresql://"):
        yield database_url
        return
    admin = create_engine(_driver(database_url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{database_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
