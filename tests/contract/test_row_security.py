"""Row-level security on PostgreSQL: a connection sees only the rows of the workspace its transaction names,
whatever its query forgets, and the few ways across workspaces open only what each needs.

The tests run as the role the fixtures give the whole suite (tests/conftest.py: no superuser, no BYPASSRLS);
the server's superuser is used only to check that the rows hidden from it are really there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import ProgrammingError

from firmly.adapters.sql.store import SqlStore, make_engine
from firmly.adapters.sql.tables import metadata
from firmly.domain.ports import OutboxRow, SessionRow, TokenRow, UserRow
from firmly.service import workspace
from tests.conftest import APP_ROLE, _driver, _pg_admin_url
from tests.contract.test_store import event

FAR = 2**62  # when the messages here are due: never for the other tests' claims in the session's database
# Every table a workspace owns rows of, with the column that names it
OWNED = {t.name: ("id" if t.name == "workspaces" else "workspace") for t in metadata.sorted_tables
         if "workspace" in t.c or t.name == "workspaces"}


@dataclass
class Two:
    engine: Engine
    a: SqlStore
    b: SqlStore


def _fill(store: SqlStore, tag: str) -> None:
    """A row of the workspace in most tables: events, a token, a setting, a message, a login and its session."""
    ws = store.workspace
    with store.write():
        store.append_events([event(f"e-{tag}", "appointment.attended", "anna", "2026-03-01T10:00:00+03:00",
                                   appointment="x")])
        store.add_token(TokenRow(f"t-{ws}", ws, "ingest", "crm", "0" * 64, 1, None))
        store.set_setting("daily_limit", "5")
        store.put_outbox([OutboxRow(f"o-{tag}", "d", "anna", "email", "a@example.org", "s", "b", None, "pending", 0,
                                    FAR, 0, workspace=ws)])
        store.put_user(UserRow(f"u-{ws}", ws, f"{ws}@example.org", "admin", "hash", 1))
        store.add_session(SessionRow(f"s-{ws}", f"u-{ws}", ws, "csrf", 1, 2**62))


@pytest.fixture
def two(postgres_url: str) -> Iterator[Two]:
    engine = make_engine(postgres_url)
    suffix = uuid.uuid4().hex[:8]
    a, b = SqlStore(engine, f"rls-a-{suffix}"), SqlStore(engine, f"rls-b-{suffix}")
    for store, tag in ((a, "a"), (b, "b")):
        workspace.init(store, "ru", "Europe/Moscow", 0)
        _fill(store, tag)
    yield Two(engine, a, b)
    engine.dispose()


def _workspaces_seen(conn: Connection, table: str) -> set[str]:
    return {r[0] for r in conn.execute(text(f'SELECT "{OWNED[table]}" FROM "{table}"'))}


def _name(conn: Connection, workspace_name: str) -> None:
    conn.execute(text("SELECT set_config('firmly.workspace', :w, true)"), {"w": workspace_name})


def test_the_suite_runs_as_a_role_row_level_security_binds(two: Two) -> None:
    with two.engine.connect() as conn:
        user, superuser, bypass = conn.execute(text(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert (user, superuser, bypass) == (APP_ROLE, False, False)
        flags = {r[0]: (r[1], r[2]) for r in conn.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace"))}
    assert {name: flags[name] for name in OWNED} == dict.fromkeys(OWNED, (True, True))  # a new table included
    assert flags["login_attempts"] == (False, False)  # accounts and addresses, no workspace's rows
    assert len(OWNED) == 18


def test_a_transaction_that_names_no_workspace_reads_nothing(two: Two, postgres_url: str) -> None:
    admin = create_engine(_driver(f"{_pg_admin_url().rsplit('/', 1)[0]}/{postgres_url.rsplit('/', 1)[1]}"))
    try:
        with admin.connect() as conn:  # the superuser bypasses row-level security: the rows are there
            for table in ("events", "tokens", "outbox", "workspace_settings", "users", "web_sessions"):
                assert {two.a.workspace, two.b.workspace} <= _workspaces_seen(conn, table), table
    finally:
        admin.dispose()
    with two.engine.connect() as conn:
        for table in OWNED:
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == 0, table


def test_a_transaction_of_one_workspace_sees_and_changes_only_its_rows(two: Two) -> None:
    a, b = two.a.workspace, two.b.workspace
    with two.engine.begin() as conn:
        _name(conn, a)
        for table in ("workspaces", "events", "tokens", "outbox", "workspace_settings", "users", "web_sessions"):
            assert _workspaces_seen(conn, table) == {a}, table  # no WHERE workspace: still only A's
        assert conn.execute(text("SELECT id FROM events")).scalars().all() == ["e-a"]
        assert conn.execute(text("UPDATE outbox SET status = 'failed'")).rowcount == 1  # A's one message
        assert conn.execute(text("DELETE FROM workspace_settings")).rowcount == 1
        conn.execute(text("ROLLBACK"))
    with two.engine.connect() as conn, pytest.raises(ProgrammingError, match="row-level security"):
        _name(conn, a)  # nor can it write a row of B's
        conn.execute(text("INSERT INTO workspace_settings (workspace, name, value) VALUES (:w, 'x', 'y')"), {"w": b})
    with two.engine.connect() as conn, pytest.raises(ProgrammingError, match="row-level security"):
        _name(conn, a)  # or move one of its rows over to B
        conn.execute(text("UPDATE events SET workspace = :w"), {"w": b})


def test_each_way_across_workspaces_opens_its_tables_only(two: Two) -> None:
    both = {two.a.workspace, two.b.workspace}
    ways = {"workspaces": {"workspaces"}, "metrics": {"decisions"}, "outbox": {"outbox"}, "tokens": {"tokens"},
            "connectors": {"connectors"}, "logins": {"users", "web_sessions"}}
    with two.engine.begin() as conn:
        for way, opened in ways.items():
            conn.execute(text("SELECT set_config('firmly.through', :p, true)"), {"p": way})
            for table in ("workspaces", "events", "tokens", "outbox", "workspace_settings", "users",
                          "web_sessions"):
                seen = _workspaces_seen(conn, table) & both
                assert seen == (both if table in opened else set()), (way, table)
        conn.execute(text("SELECT set_config('firmly.through', 'tokens', true)"))
        assert conn.execute(text("UPDATE tokens SET revoked_at = 1")).rowcount == 0  # tokens: read only
        conn.execute(text("SELECT set_config('firmly.through', 'outbox', true)"))
        assert conn.execute(text("DELETE FROM outbox")).rowcount == 0  # the outbox: no delete


def test_the_store_reads_across_workspaces_only_by_its_named_ways(two: Two) -> None:
    a, b = two.a, two.b
    worker = SqlStore(two.engine, "")  # as the worker and the web door address the whole database
    with worker.read():
        assert {a.workspace, b.workspace} <= set(worker.all_workspaces())
        assert worker.find_token(f"t-{b.workspace}") is not None
        found = worker.find_user(f"{b.workspace}@example.org")
        assert found is not None
        assert found.workspace == b.workspace
        assert worker.find_session(f"s-{b.workspace}") is not None
        assert worker.outbox() == []  # its own workspace's messages: none
        assert worker.settings() == {}
        assert list(worker.all_events()) == []  # the way through closed behind each named method
    with worker.write():
        claimed = worker.claim_outbox(FAR, 1000, FAR + 1, "c")
    assert {(r.workspace, r.id) for r in claimed} >= {(a.workspace, "o-a"), (b.workspace, "o-b")}
    with a.read():
        assert [e.id for e in a.all_events()] == ["e-a"]
        assert [r.id for r in a.outbox()] == ["o-a"]
